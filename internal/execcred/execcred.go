// Package execcred writes the ExecCredential document kubectl expects from a
// credential plugin and reads the KUBERNETES_EXEC_INFO kubectl passes in.
//
// It is deliberately tiny (stdlib only, no k8s.io imports): the lean front
// binary uses it on every cache hit, and linking client-go would cost more
// start-up time than the whole hit. Its tests decode the output strictly into
// client-go's own types so the two cannot drift apart.
package execcred

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// API versions of client.authentication.k8s.io that kubectl accepts from exec
// plugins today.
const (
	V1      = "client.authentication.k8s.io/v1"
	V1beta1 = "client.authentication.k8s.io/v1beta1"
	// Kind is the document's kind.
	Kind = "ExecCredential"
	// EnvExecInfo is the variable kubectl sets for the plugin.
	EnvExecInfo = "KUBERNETES_EXEC_INFO"
)

// Info is what iamgate uses from KUBERNETES_EXEC_INFO.
type Info struct {
	// APIVersion is the version to answer with; never empty.
	APIVersion string
	// Interactive is false only when kubectl said spec.interactive: false,
	// i.e. there is no terminal to prompt on (kubectl run from a script, an
	// IDE, CI). A missing or unreadable variable counts as interactive, as a
	// person running "iamgate token" by hand is.
	Interactive bool
	// Warning, when set, is one line for stderr explaining a fallback.
	Warning string
}

// ParseInfo reads the value of KUBERNETES_EXEC_INFO. It never fails: kubectl
// versions that predate the variable, and people running the command by hand,
// still get a usable (v1beta1) answer. An unset variable is the normal case
// by hand, so it earns no warning; a value kubectl would never send does.
func ParseInfo(raw string) Info {
	info := Info{APIVersion: V1beta1, Interactive: true}
	if raw == "" {
		return info
	}
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Spec       struct {
			Interactive *bool `json:"interactive"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		info.Warning = fmt.Sprintf("%s is not valid JSON; answering with %s", EnvExecInfo, V1beta1)
		return info
	}
	if doc.Spec.Interactive != nil {
		info.Interactive = *doc.Spec.Interactive
	}
	switch doc.APIVersion {
	case V1, V1beta1:
		info.APIVersion = doc.APIVersion
	default:
		// The value is kubectl's, not a secret; quote it so a stray newline
		// cannot forge a second log line.
		info.Warning = fmt.Sprintf("%s asks for unsupported apiVersion %q; answering with %s", EnvExecInfo, truncate(doc.APIVersion, 80), V1beta1)
	}
	return info
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

type document struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Spec       struct {
	} `json:"spec"`
	Status status `json:"status"`
}

type status struct {
	ExpirationTimestamp string `json:"expirationTimestamp"`
	Token               string `json:"token"`
}

// Marshal returns the ExecCredential for token, ending in a newline.
// expires is written in RFC 3339 at second precision, rounded down so kubectl
// never uses a token past the moment it was promised to be good for.
func Marshal(apiVersion, token string, expires time.Time) ([]byte, error) {
	if apiVersion != V1 && apiVersion != V1beta1 {
		return nil, fmt.Errorf("unsupported apiVersion %q", apiVersion)
	}
	doc := document{Kind: Kind, APIVersion: apiVersion}
	doc.Status.Token = token
	doc.Status.ExpirationTimestamp = expires.UTC().Truncate(time.Second).Format(time.RFC3339)
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode exec credential: %w", err)
	}
	return append(b, '\n'), nil
}

// Write prints the plugin's answer, for both binaries: the bare token when
// tokenOnly, else the ExecCredential in info's apiVersion, preceded by info's
// warning on stderr. Only this ever goes to stdout, since kubectl parses it.
func Write(stdout, stderr io.Writer, info Info, tokenOnly bool, token string, expires time.Time) error {
	var doc []byte
	if tokenOnly {
		doc = []byte(token + "\n")
	} else {
		if info.Warning != "" {
			fmt.Fprintf(stderr, "warning: %s\n", info.Warning)
		}
		var err error
		if doc, err = Marshal(info.APIVersion, token, expires); err != nil {
			return err
		}
	}
	if _, err := stdout.Write(doc); err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	return nil
}
