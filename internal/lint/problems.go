package lint

import (
	"errors"
	"regexp"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// problemRule names a problem the server's parser or rules.Build reports,
// and says what to do about it. The server's message is kept: it is what
// the server logs.
type problemRule struct {
	id   string
	test func(p mapping.Problem, msg string) bool
	do   string
}

var problemRules = []problemRule{
	{"yaml-syntax", func(p mapping.Problem, m string) bool {
		return p.Origin.Index < 0 && (strings.HasPrefix(m, "invalid YAML") || strings.Contains(m, "more than one YAML document"))
	}, "fix the YAML (the parser names the line where it gave up: the mistake can be a line or two before); aws-iam-authenticator drops the whole section when it cannot parse it, nodes included"},
	{"section-not-list", func(p mapping.Problem, m string) bool {
		return p.Origin.Index < 0 && strings.HasPrefix(m, "must be a list")
	}, "write the section as a YAML list (\"- rolearn: …\"); aws-iam-authenticator drops the whole section, every mapping in it (nodes included), and iamgate refuses the source and keeps its last good mappings"},
	{"invalid-section", func(p mapping.Problem, _ string) bool { return p.Origin.Index < 0 },
		"fix the section; iamgate refuses the source and keeps its last good mappings"},
	{"reserved-name", func(p mapping.Problem, _ string) bool { return errors.Is(p.Err, rules.ErrReservedName) },
		"use a name without the reserved prefix, or list it in server.reservedAllowlist if EKS or Kubernetes really should see it"},
	{"unknown-template", func(p mapping.Problem, m string) bool {
		return errors.Is(p.Err, rules.ErrBadTemplate) && strings.Contains(m, "unknown variable")
	}, "use {{AccountID}}, {{SessionName}}, {{SessionNameRaw}}, {{AccessKeyID}} or {{EC2PrivateDNSName}}"},
	{"bad-template", func(p mapping.Problem, _ string) bool { return errors.Is(p.Err, rules.ErrBadTemplate) },
		"close every \"{{\" with \"}}\" around one variable name"},
	{"template-before-colon", func(_ mapping.Problem, m string) bool {
		return strings.Contains(m, `template before the first ":"`)
	}, "start the name with literal text and a colon, e.g. \"sso:{{SessionName}}\""},
	{"overlapping-patterns", func(_ mapping.Problem, m string) bool {
		return strings.Contains(m, "can both match one principal") || strings.Contains(m, "overlapping patterns")
	}, ""},
	{"role-in-mapusers", func(_ mapping.Problem, m string) bool {
		return strings.Contains(m, "is a role ARN, not an IAM user") || strings.Contains(m, "is a assumed-role ARN, not an IAM user")
	}, "move the entry to mapRoles and name it with rolearn"},
	{"user-in-maproles", func(_ mapping.Problem, m string) bool {
		return strings.Contains(m, "is a user ARN, not an IAM role") || strings.Contains(m, "is a root ARN, not an IAM role")
	}, "move the entry to mapUsers and name it with userarn"},
	{"unknown-field", func(_ mapping.Problem, m string) bool { return strings.Contains(m, "unknown field") }, ""},
	{"node-session-username", func(_ mapping.Problem, m string) bool {
		return strings.Contains(m, "only allowed on an exact role ARN")
	}, "keep system:node:{{SessionName}} for the Fargate pod execution role's exact ARN"},
	{"invalid-account", func(_ mapping.Problem, m string) bool { return strings.Contains(m, "12-digit account ID") }, "write the 12 digits of an AWS account id, quoted"},
	{"wrong-type", func(_ mapping.Problem, m string) bool { return strings.Contains(m, "must be a") }, ""},
	{"malformed-arn", func(p mapping.Problem, _ string) bool { return errors.Is(p.Err, arn.ErrInvalid) },
		"write a full ARN, e.g. arn:aws:iam::111122223333:role/NAME"},
	{"invalid-entry", func(mapping.Problem, string) bool { return true }, ""},
}

var yamlLineRe = regexp.MustCompile(`yaml: line \d+: `)

// fieldLine puts a rules.Build problem, which names only its entry, on the
// line of the field it is about.
func fieldLine(p mapping.Problem, info *entryInfo) mapping.Problem {
	if info == nil || p.Err == nil {
		return p
	}
	msg := p.Err.Error()
	for _, k := range []string{"username", "groups", "userid"} {
		if strings.HasPrefix(msg, k) {
			if l := info.lineOf(k); l > 0 {
				p.Origin.Line = l
			}
			break
		}
	}
	return p
}

// fromProblem turns a server problem into a finding.
func fromProblem(p mapping.Problem, _ *entryInfo) Finding {
	msg := "unknown problem"
	if p.Err != nil {
		msg = p.Err.Error()
	}
	f := Finding{Severity: Error, File: p.Origin.File, Line: p.Origin.Line,
		Section: p.Origin.Section, Index: p.Origin.Index, fatal: p.Fatal}
	if p.Origin.File == "" {
		f.Object = p.Origin.Object
	}
	for _, r := range problemRules {
		if !r.test(p, msg) {
			continue
		}
		f.Rule = r.id
		if r.id == "yaml-syntax" {
			// The parser's own line counts in the value; the finding's
			// line is the file's.
			msg = yamlLineRe.ReplaceAllString(msg, "")
		}
		if p.Names != "" {
			msg = p.Names + ": " + msg
		}
		if r.do != "" {
			msg += "; " + r.do
		}
		break
	}
	switch {
	case f.Index < 0:
	case p.Fatal:
		msg += refusesSource
	default:
		msg += " (iamgate skips this entry)"
	}
	f.Message = msg
	return f
}
