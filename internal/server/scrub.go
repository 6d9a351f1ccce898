package server

import "strings"

// scrubbedText is what replaces a scrubbed account's identifiers in logs.
const scrubbedText = "[scrubbed]"

// scrubber removes a scrubbed account's identity from text bound for the
// log: a mapping's source, a rendered username or group (mapAccounts
// renders the ARN itself), and error details, which may quote ARNs in any
// letter case. The ARNs, ids and key go whole; the account id is then
// replaced wherever it is left, such as inside a differently written ARN.
type scrubber struct{ secrets []string }

func (s *Server) scrubberFor(d *decision) *scrubber {
	if !d.scrubbed {
		return nil
	}
	sc := &scrubber{}
	for _, v := range []string{d.id.ARN, d.id.CanonicalARN, d.id.UserID, d.principal, d.id.AccessKeyID, d.id.AccountID} {
		if len(v) >= 8 { // shorter values would eat ordinary words
			sc.secrets = append(sc.secrets, v)
		}
	}
	return sc
}

// text scrubs one string; a nil scrubber returns it unchanged.
func (sc *scrubber) text(v string) string {
	if sc == nil || v == "" {
		return v
	}
	for _, secret := range sc.secrets {
		v = replaceFoldASCII(v, secret, scrubbedText)
	}
	return v
}

func (sc *scrubber) list(vs []string) []string {
	if sc == nil || len(vs) == 0 {
		return vs
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = sc.text(v)
	}
	return out
}

// replaceFoldASCII replaces old in s ignoring ASCII letter case. ASCII
// folding keeps byte offsets, so indices found in the folded copy hold in s.
func replaceFoldASCII(s, old, repl string) string {
	ls, lo := lowerASCII(s), lowerASCII(old)
	if !strings.Contains(ls, lo) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(ls, lo)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, ls = s[i+len(old):], ls[i+len(lo):]
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
