package lint

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
)

// value is one string of an entry as written, with its line and key.
type value struct {
	key  string
	text string
	line int
}

// valuesOf lists the strings of an entry: from the walk when there is one
// (refused entries keep only their principal), else from the entry.
func valuesOf(e mapping.Entry, info *entryInfo) []value {
	var out []value
	if info != nil {
		for lk, f := range info.fields {
			switch {
			case f.isScalar:
				out = append(out, value{key: f.key, text: f.val, line: f.valLine})
			case len(f.list) > 0:
				for _, g := range f.list {
					out = append(out, value{key: f.key, text: g, line: f.valLine})
				}
			}
			if lk == "account" {
				out[len(out)-1].key = mapping.SectionAccounts
			}
		}
		for _, f := range info.sso {
			if f.isScalar {
				out = append(out, value{key: "sso." + f.key, text: f.val, line: f.valLine})
			}
		}
		return out
	}
	line := e.Origin.Line
	add := func(k, s string) {
		if s != "" {
			out = append(out, value{key: k, text: s, line: line})
		}
	}
	add(arnKey(e), e.ARN)
	add("account", e.Account)
	add("username", e.Username)
	for _, g := range e.Groups {
		add("groups", g)
	}
	if e.SSO != nil {
		add("sso.accountID", e.SSO.AccountID)
		add("sso.permissionSetName", e.SSO.PermissionSetName)
	}
	return out
}

func arnKey(e mapping.Entry) string {
	switch {
	case e.Origin.Section == mapping.SectionSpec:
		return "arn"
	case e.Kind == mapping.KindUser:
		return "userarn"
	case e.Kind == mapping.KindGroup:
		return "grouparn"
	}
	return "rolearn"
}

// Placeholders people leave in templates and examples. {{Name}} templates
// are the server's (checked by the template rules); "{{ ." is Helm's,
// left unrendered.
var placeholderRes = []*regexp.Regexp{
	regexp.MustCompile(`<[^<>]*>`),
	regexp.MustCompile(`\$\{[^}]*\}|\$\(\w+\)`),
	regexp.MustCompile(`\{\{-?\s*\.`),
	regexp.MustCompile(`\b(AWS_)?ACCOUNT_?ID\b|\b(REPLACE|CHANGE)_?ME\b|\bYOUR_[A-Z_]+\b|\bACCOUNT_NUMBER\b`),
	regexp.MustCompile(`(?i)x{6,}|\b0{12}\b`),
}

func isPlaceholder(s string) bool {
	for _, re := range placeholderRes {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// exampleAccount is the account id of AWS's documentation examples. It is
// a warning, not an error: tests and demos use it on purpose. (111122223333,
// the newer documentation example, is left alone: this repository's own
// examples use it throughout.)
const exampleAccount = "123456789012"

// valueRules check the strings of an entry as written.
func valueRules(e mapping.Entry, info *entryInfo) []Finding {
	var out []Finding
	add := func(sev Severity, rule string, line int, msg string) {
		out = append(out, Finding{Severity: sev, Rule: rule, File: e.Origin.File, Line: line,
			Section: e.Origin.Section, Index: e.Origin.Index, Message: msg})
		if e.Origin.File == "" {
			out[len(out)-1].Object = e.Origin.Object
		}
	}
	for _, v := range valuesOf(e, info) {
		if isPlaceholder(v.text) {
			add(Error, "placeholder", v.line, fmt.Sprintf("%s %q is a placeholder left in; put the real value there", v.key, v.text))
			continue
		}
		lk := strings.ToLower(v.key)
		isARN := strings.HasSuffix(lk, "arn") && strings.HasPrefix(strings.ToLower(v.text), "arn:")
		switch {
		case isARN:
			out = append(out, arnValueRules(v, add)...)
		case lk == strings.ToLower(mapping.SectionAccounts) || lk == "account" || lk == "sso.accountid":
			if !arn.IsAccountID(v.text) {
				add(Error, "account-id", v.line, fmt.Sprintf("%s %q is not a 12-digit account id; write the account's 12 digits, quoted", v.key, v.text))
			} else if v.text == exampleAccount {
				add(Warning, "example-account", v.line, fmt.Sprintf("%s %s is the example account of the AWS documentation; put the real account id", v.key, v.text))
			}
		}
	}
	return out
}

// arnValueRules check an ARN as written.
func arnValueRules(v value, add func(Severity, string, int, string)) []Finding {
	parts := strings.SplitN(v.text, ":", 6)
	if len(parts) == 6 {
		acct := parts[4]
		if acct != "" && acct != "*" && !strings.Contains(acct, "*") && !arn.IsAccountID(acct) && !strings.EqualFold(parts[2], "eks") {
			add(Error, "account-id", v.line, fmt.Sprintf("%s %q: account id %q is not 12 digits; write the account's 12 digits", v.key, v.text, acct))
			return nil
		}
		if acct == exampleAccount {
			add(Warning, "example-account", v.line, fmt.Sprintf("%s %q uses %s, the example account of the AWS documentation; put the real account id", v.key, v.text, acct))
		}
		if res := strings.ToLower(parts[5]); strings.HasPrefix(res, "instance-profile/") {
			name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
			add(Error, "instance-profile-arn", v.line, fmt.Sprintf(
				"%s %q is an instance profile ARN, which never signs a token; use the ARN of the role it holds (aws iam get-instance-profile --instance-profile-name %s --query 'InstanceProfile.Roles[].Arn')",
				v.key, v.text, name))
		}
	}
	return nil
}
