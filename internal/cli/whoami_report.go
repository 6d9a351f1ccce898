package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// whoamiReport is what whoami prints; -o json writes it as is. It holds
// no secret: an access key id, never the key or the token.
type whoamiReport struct {
	Credentials  whoamiCreds    `json:"credentials"`
	Caller       whoamiCaller   `json:"caller"`
	CanonicalARN string         `json:"canonicalArn"`
	Entry        string         `json:"awsAuthEntry"`
	ClockSkew    string         `json:"clockSkew,omitempty"`
	Token        whoamiToken    `json:"token"`
	Cluster      *whoamiCluster `json:"cluster,omitempty"`
	skew         time.Duration
}

type whoamiCreds struct {
	Source      string     `json:"source"`
	Description string     `json:"description"`
	Profile     string     `json:"profile"`
	ProfileFrom string     `json:"profileFrom,omitempty"`
	Role        string     `json:"role,omitempty"`
	AccessKeyID string     `json:"accessKeyID"`
	Expires     *time.Time `json:"expires,omitempty"`
}

type whoamiCaller struct {
	ARN     string `json:"arn"`
	Account string `json:"account"`
	UserID  string `json:"userID"`
}

type whoamiToken struct {
	ClusterID           string     `json:"clusterID,omitempty"`
	ClusterIDFrom       string     `json:"clusterIDFrom,omitempty"`
	STSHost             string     `json:"stsHost"`
	SigningRegion       string     `json:"signingRegion"`
	CredentialsEndpoint string     `json:"credentialsEndpoint,omitempty"`
	Expires             *time.Time `json:"expires,omitempty"`
}

type whoamiCluster struct {
	Server        string              `json:"server"`
	Context       string              `json:"context,omitempty"`
	Authenticated bool                `json:"authenticated"`
	Username      string              `json:"username,omitempty"`
	UID           string              `json:"uid,omitempty"`
	Groups        []string            `json:"groups,omitempty"`
	Extra         map[string][]string `json:"extra,omitempty"`
	Note          string              `json:"note,omitempty"`
	Causes        []whoamiCause       `json:"causes,omitempty"`
}

// whoamiCause is one reason a cluster may refuse the token, and how to
// check it.
type whoamiCause struct {
	Cause  string `json:"cause"`
	Check  string `json:"check"`
	Likely bool   `json:"likely,omitempty"`
}

func (r *whoamiReport) print(w io.Writer) error {
	var b strings.Builder
	c := r.Credentials
	b.WriteString("AWS identity\n")
	fmt.Fprintf(&b, "  credentials:   %s (access key %s)\n", c.Description, c.AccessKeyID)
	if c.Expires != nil {
		fmt.Fprintf(&b, "  expire:        %s\n", c.Expires.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "  sts arn:       %s\n  account:       %s\n  userID:        %s\n", r.Caller.ARN, r.Caller.Account, r.Caller.UserID)
	fmt.Fprintf(&b, "  canonical arn: %s\n  aws-auth:      %s\n", r.CanonicalARN, r.Entry)
	if r.ClockSkew != "" {
		fmt.Fprintf(&b, "  clock skew:    %s (this machine minus STS)\n", r.ClockSkew)
	}
	t := r.Token
	b.WriteString("\ntoken\n")
	fmt.Fprintf(&b, "  cluster id:    %s", orNone(t.ClusterID, "(none: pass -i to make one)"))
	if t.ClusterIDFrom != "" {
		fmt.Fprintf(&b, " (from %s)", t.ClusterIDFrom)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  signed for:    %s (region %s)\n", t.STSHost, t.SigningRegion)
	if t.CredentialsEndpoint != "" {
		fmt.Fprintf(&b, "  credentials endpoint: %s (used to get credentials only)\n", t.CredentialsEndpoint)
	}
	if t.Expires != nil {
		fmt.Fprintf(&b, "  expires:       %s\n", t.Expires.Format(time.RFC3339))
	}
	if cl := r.Cluster; cl != nil {
		fmt.Fprintf(&b, "\ncluster %s", cl.Server)
		if cl.Context != "" {
			fmt.Fprintf(&b, " (context %s)", cl.Context)
		}
		b.WriteString("\n")
		if cl.Authenticated {
			fmt.Fprintf(&b, "  username:      %s\n  uid:           %s\n  groups:        %s\n", cl.Username, cl.UID, groupList(cl.Groups))
			keys := make([]string, 0, len(cl.Extra))
			for k := range cl.Extra {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "  extra:         %s=%s\n", k, strings.Join(cl.Extra[k], ","))
			}
			if cl.Note != "" {
				fmt.Fprintf(&b, "  note:          %s\n", cl.Note)
			}
		} else {
			b.WriteString("  Unauthorized: the cluster did not accept this token. Usual causes, most likely first:\n")
			for i, c := range cl.Causes {
				mark := ""
				if c.Likely {
					mark = "LIKELY: "
				}
				fmt.Fprintf(&b, "  %d. %s%s\n     check: %s\n", i+1, mark, c.Cause, c.Check)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
