package rules

import (
	"context"
	"errors"
	"fmt"
	"github.com/iamgate/iamgate/internal/mapping"
	"strings"
)

// Template variable names accepted in username and groups.
const (
	VarAccountID         = "AccountID"
	VarSessionName       = "SessionName"
	VarSessionNameRaw    = "SessionNameRaw"
	VarAccessKeyID       = "AccessKeyID"
	VarEC2PrivateDNSName = "EC2PrivateDNSName"
)

var knownVars = map[string]bool{
	VarAccountID: true, VarSessionName: true, VarSessionNameRaw: true,
	VarAccessKeyID: true, VarEC2PrivateDNSName: true,
}

// ErrBadTemplate is wrapped by template syntax errors (an unknown variable, a
// stray "{{" or "}}"). aws-iam-authenticator would leave such text in the
// username; iamgate refuses it because a typo there silently changes who a
// user is.
var ErrBadTemplate = errors.New("bad template")

// ErrEC2PrivateDNSNameUnsupported is returned when rendering needs
// {{EC2PrivateDNSName}} and no EC2Resolver is configured: the review is
// denied rather than guessed.
var ErrEC2PrivateDNSNameUnsupported = errors.New("{{EC2PrivateDNSName}} is not supported: no EC2 resolver configured")

// ErrEC2PrivateDNSName is wrapped when {{EC2PrivateDNSName}} cannot be
// resolved: the session is not named like an instance ID, or the lookup
// failed or returned an unusable name. The review is denied.
var ErrEC2PrivateDNSName = errors.New("cannot resolve {{EC2PrivateDNSName}}")

// Template is a parsed username or group template.
type Template struct {
	raw   string
	parts []tmplPart
}

type tmplPart struct {
	lit string // literal text when v == ""
	v   string // variable name
}

// ParseTemplate checks s and splits it into literal text and variables.
func ParseTemplate(s string) (Template, error) {
	t := Template{raw: s}
	rest := s
	for rest != "" {
		open := strings.Index(rest, "{{")
		if open < 0 {
			if strings.Contains(rest, "}}") {
				return Template{}, fmt.Errorf(`%w: stray "}}" in %q`, ErrBadTemplate, s)
			}
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		if strings.Contains(rest[:open], "}}") {
			return Template{}, fmt.Errorf(`%w: stray "}}" in %q`, ErrBadTemplate, s)
		}
		if open > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:open]})
		}
		rest = rest[open+2:]
		end := strings.Index(rest, "}}")
		if end < 0 {
			return Template{}, fmt.Errorf(`%w: unclosed "{{" in %q`, ErrBadTemplate, s)
		}
		name := rest[:end]
		if !knownVars[name] {
			return Template{}, fmt.Errorf("%w: unknown variable {{%s}} in %q", ErrBadTemplate, name, s)
		}
		t.parts = append(t.parts, tmplPart{v: name})
		rest = rest[end+2:]
	}
	return t, nil
}

// String returns the template text as written.
func (t Template) String() string { return t.raw }

// Uses reports whether the template refers to variable name.
func (t Template) Uses(name string) bool {
	for _, p := range t.parts {
		if p.v == name {
			return true
		}
	}
	return false
}

// render fills in the variables from id; ec2Name resolves
// {{EC2PrivateDNSName}} (resolveEC2). An empty result is not an error
// here; the table refuses an empty username and drops empty groups.
func (t Template) render(id mapping.Identity, ec2Name func() (string, error)) (string, error) {
	if len(t.parts) == 1 && t.parts[0].v == "" {
		return t.parts[0].lit, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.v {
		case "":
			b.WriteString(p.lit)
		case VarAccountID:
			b.WriteString(id.AccountID)
		case VarSessionName:
			b.WriteString(strings.ReplaceAll(id.SessionName, "@", "-"))
		case VarSessionNameRaw:
			b.WriteString(id.SessionName)
		case VarAccessKeyID:
			b.WriteString(id.AccessKeyID)
		case VarEC2PrivateDNSName:
			name, err := ec2Name()
			if err != nil {
				return "", err
			}
			b.WriteString(name)
		default: // unreachable: ParseTemplate only keeps known names
			return "", fmt.Errorf("%w: unknown variable {{%s}}", ErrBadTemplate, p.v)
		}
	}
	return b.String(), nil
}

// resolveEC2 looks up the private DNS name of the instance the session is
// named after.
func resolveEC2(ctx context.Context, id mapping.Identity, ec2 EC2Resolver) (string, error) {
	if ec2 == nil {
		return "", ErrEC2PrivateDNSNameUnsupported
	}
	if !isInstanceID(id.SessionName) {
		return "", fmt.Errorf("%w: session name %q is not an instance ID (i- and 8 or 17 hex digits)", ErrEC2PrivateDNSName, id.SessionName)
	}
	name, err := ec2.PrivateDNSName(ctx, id.AccountID, id.SessionName)
	if err != nil {
		return "", fmt.Errorf("%w: instance %s in account %s: %w", ErrEC2PrivateDNSName, id.SessionName, id.AccountID, err)
	}
	if !isDNSName(name) {
		return "", fmt.Errorf("%w: instance %s: private DNS name %q is not a lower-case DNS name", ErrEC2PrivateDNSName, id.SessionName, name)
	}
	return name, nil
}

// isInstanceID reports whether s looks like an EC2 instance ID: "i-" and 8
// or 17 lower-case hex digits. Only such sessions are looked up, so a caller
// cannot make the server describe arbitrary strings.
func isInstanceID(s string) bool {
	if !strings.HasPrefix(s, "i-") || (len(s) != 2+8 && len(s) != 2+17) {
		return false
	}
	for _, c := range s[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isDNSName accepts an RFC 1123 subdomain, as node names must be.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
