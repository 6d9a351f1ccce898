package cli

import (
	"regexp"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/rbacview"
)

// entrySubject is what an entry can make of a principal, as far as it is
// fixed text: the username when no variable is left in it, and the groups
// without variables. A username that depends on the caller (a session
// name, an access key, an instance's DNS name, the caller's own ARN) is
// unknown: such an entry can only be allowed through its groups, and the
// user bindings its username could match are listed as possible, never as
// granted.
type entrySubject struct {
	sub rbacview.Subjects
	// userPattern matches the usernames a templated username can produce
	// (nil when the username is fixed).
	userPattern *regexp.Regexp
	// dropped are the groups left out because a variable is in them.
	dropped []string
}

var templateVar = regexp.MustCompile(`\{\{[A-Za-z0-9]+\}\}`)

func subjectOf(e mapping.Entry) entrySubject {
	acct := entryAccount(e)
	fill := func(s string) string {
		if acct != "" {
			s = strings.ReplaceAll(s, "{{AccountID}}", acct)
		}
		return s
	}
	var out entrySubject
	u := fill(e.Username)
	switch {
	case u == "":
		// No username: the server names the caller by its ARN.
		out.userPattern = regexp.MustCompile(`^arn:[^:]+:(iam|sts)::` + regexp.QuoteMeta(orNone(acct, "")) + `.*$`)
	case templateVar.MatchString(u):
		out.userPattern = patternOf(u)
	default:
		out.sub.User = u
	}
	for _, g := range e.Groups {
		g = fill(g)
		if templateVar.MatchString(g) {
			out.dropped = append(out.dropped, g)
			continue
		}
		out.sub.Groups = append(out.sub.Groups, g)
	}
	return out
}

// patternOf matches what template t renders to: its literal text, and
// anything non-empty for each variable.
func patternOf(t string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range templateVar.FindAllStringIndex(t, -1) {
		b.WriteString(regexp.QuoteMeta(t[last:m[0]]))
		b.WriteString(".+")
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(t[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// entryAccount is the one account an entry's principals are in, when the
// entry names one.
func entryAccount(e mapping.Entry) string {
	switch {
	case e.Kind == mapping.KindAccount:
		return e.Account
	case e.Kind == mapping.KindSSO && e.SSO != nil:
		return e.SSO.AccountID
	}
	if strings.ContainsAny(e.ARN, "*?") {
		parts := strings.Split(e.ARN, ":")
		if len(parts) > 4 && arn.IsAccountID(parts[4]) {
			return parts[4]
		}
		return ""
	}
	if a, err := arn.Parse(e.ARN); err == nil {
		return a.AccountID
	}
	return ""
}

// key identifies a subject for one SubjectAccessReview.
func (s entrySubject) key() string {
	return s.sub.User + "\x00" + strings.Join(s.sub.Groups, "\x00")
}
