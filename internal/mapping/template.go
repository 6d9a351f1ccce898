package mapping

import (
	"errors"
	"fmt"
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
// {{EC2PrivateDNSName}}: resolving it takes an EC2 lookup iamgate does not do
// yet, so the review is denied rather than guessed.
var ErrEC2PrivateDNSNameUnsupported = errors.New("{{EC2PrivateDNSName}} is not supported yet")

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

// Render fills in the variables from id. An empty result is not an error
// here; the lookup refuses an empty username and drops empty groups.
func (t Template) Render(id Identity) (string, error) {
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
			return "", ErrEC2PrivateDNSNameUnsupported
		default: // unreachable: ParseTemplate only keeps known names
			return "", fmt.Errorf("%w: unknown variable {{%s}}", ErrBadTemplate, p.v)
		}
	}
	return b.String(), nil
}

// Render parses tmpl and renders it for id.
func Render(tmpl string, id Identity) (string, error) {
	t, err := ParseTemplate(tmpl)
	if err != nil {
		return "", err
	}
	return t.Render(id)
}
