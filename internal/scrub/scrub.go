// Package scrub keeps the accounts listed in server.scrubbedAccounts out of
// what the server writes: log lines (Handler wraps the server's logger, so
// no line can forget) and Kubernetes Events. The lookups and the audit line
// also drop the principal's names, not only the account id.
package scrub

import "strings"

// Text replaces a scrubbed account's identifiers.
const Text = "[scrubbed]"

// Accounts is a set of scrubbed account ids; the zero value scrubs nothing.
type Accounts map[string]bool

// New builds the set.
func New(ids []string) Accounts {
	a := Accounts{}
	for _, id := range ids {
		a[id] = true
	}
	return a
}

// Has reports whether account is scrubbed.
func (a Accounts) Has(account string) bool { return a[account] }

// Account is account, or Text when it is scrubbed.
func (a Accounts) Account(account string) string {
	if a.Has(account) {
		return Text
	}
	return account
}

// Value is v, or Text when account is scrubbed: for names that identify a
// principal of that account (an ARN, a user name, an instance id).
func (a Accounts) Value(account, v string) string {
	if a.Has(account) {
		return Text
	}
	return v
}

// Err is err's text with every scrubbed account id replaced, and, when
// account is scrubbed, the names given too (the ARN or user looked up): AWS
// errors quote the caller's ARN ("User: arn:aws:iam::...:user/x is not
// authorized"), and a wrapping error may name the principal looked up.
func (a Accounts) Err(account string, err error, names ...string) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if a.Has(account) {
		for _, n := range names {
			if n != "" {
				msg = strings.ReplaceAll(msg, n, Text)
			}
		}
	}
	for id := range a {
		msg = strings.ReplaceAll(msg, id, Text)
	}
	return msg
}

// Replace replaces every scrubbed account id in s.
func (a Accounts) Replace(s string) string {
	for id := range a {
		if id != "" && strings.Contains(s, id) {
			s = strings.ReplaceAll(s, id, Text)
		}
	}
	return s
}
