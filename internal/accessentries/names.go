package accessentries

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// key names a principal whatever path an entry wrote: a role by account
// and name (names are unique in an account, and sessions carry no path),
// a user by its ARN.
func key(principalARN string) string {
	a, err := arn.Parse(principalARN)
	if err != nil {
		return principalARN
	}
	switch a.Type {
	case arn.TypeRole, arn.TypeAssumedRole:
		return "role:" + a.Partition + ":" + a.AccountID + ":" + a.Name
	}
	return "other:" + principalARN
}

// keyOfWritten is key for an entry as written, when it names one principal.
func keyOfWritten(e mapping.Entry) (string, bool) {
	if (e.Kind != mapping.KindRole && e.Kind != mapping.KindUser) || strings.Contains(e.ARN, "*") || e.ARN == "" {
		return "", false
	}
	return key(e.ARN), true
}

// Username prefixes EKS refuses in an access entry.
var reservedPrefixes = []string{"system:", "eks:", "aws:", "amazon:", "iam:"}

// username is u as an access entry can carry it: {{AccountID}} filled in
// (the entry names one principal, so its account is known),
// {{SessionName}} and {{SessionNameRaw}} kept for roles (EKS fills them,
// after a colon), anything else refused with the reason.
func username(u string, role bool, account string) (out, note string, err error) {
	if u == "" {
		return "", "no username: EKS makes one from the principal's ARN", nil
	}
	t, err := rules.ParseTemplate(u)
	if err != nil {
		return "", "", fmt.Errorf("username %q: %w", u, err)
	}
	for _, v := range []string{rules.VarAccessKeyID, rules.VarEC2PrivateDNSName} {
		if t.Uses(v) {
			return "", "", fmt.Errorf("username %q uses {{%s}}, which access entries cannot fill (only node entries get {{EC2PrivateDNSName}}, and EKS sets their username itself)", u, v)
		}
	}
	out = u
	if t.Uses(rules.VarAccountID) {
		out = strings.ReplaceAll(out, "{{"+rules.VarAccountID+"}}", account)
		note = "{{AccountID}} written out as " + account
	}
	for _, v := range []string{rules.VarSessionName, rules.VarSessionNameRaw} {
		tok := "{{" + v + "}}"
		if !t.Uses(v) {
			continue
		}
		if !role {
			return "", "", fmt.Errorf("username %q uses %s, which only role sessions have", u, tok)
		}
		for i := strings.Index(out, tok); i >= 0; i = next(out, tok, i) {
			if i == 0 || out[i-1] != ':' {
				return "", "", fmt.Errorf("username %q: EKS needs a colon right before %s (write it as prefix:%s)", u, tok, tok)
			}
		}
	}
	for _, pre := range reservedPrefixes {
		if strings.HasPrefix(strings.ToLower(out), pre) {
			return "", "", fmt.Errorf("username %q starts with %s, which EKS refuses in an access entry (drop the username to take EKS's default, or choose another)", u, pre)
		}
	}
	return out, note, nil
}

func next(s, tok string, i int) int {
	j := strings.Index(s[i+len(tok):], tok)
	if j < 0 {
		return -1
	}
	return i + len(tok) + j
}

// nodeUsername is what aws-auth gives EC2 worker nodes.
const nodeUsername = "system:node:{{EC2PrivateDNSName}}"

// windowsGroup marks a Windows node's entry.
const windowsGroup = "eks:kube-proxy-windows"

// nodeType says whether e is an EC2 node role's entry, and which type.
func nodeType(e mapping.Entry) (string, bool) {
	if e.Username != nodeUsername {
		return "", false
	}
	if slices.Contains(e.Groups, windowsGroup) {
		return TypeEC2Windows, true
	}
	return TypeEC2Linux, true
}

// nonNodeGroups are the groups of a node entry beyond those EKS gives nodes.
func nonNodeGroups(groups []string, typ string) []string {
	std := []string{"system:bootstrappers", "system:nodes"}
	if typ == TypeEC2Windows {
		std = append(std, windowsGroup)
	}
	var out []string
	for _, g := range groups {
		if !slices.Contains(std, g) {
			out = append(out, g)
		}
	}
	return out
}
