package arn

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::111122223333:user/alice",
		"arn:aws:iam::111122223333:user/team/alice",
		"arn:aws:iam::111122223333:role/Admin",
		"arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com",
		"arn:aws-us-gov:sts::111122223333:federated-user/bob",
		"arn:aws:iam::111122223333:root",
		"ARN:AWS:IAM::111122223333:Role/a/b/c",
		"arn:aws:iam::111122223333:role/a:b",
		"arn:aws:sts::111122223333:assumed-role/a/b/c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if _, cerr := Canonicalize(s); cerr == nil {
				t.Fatalf("Canonicalize(%q) succeeded where Parse failed", s)
			}
			return
		}
		// Rendering only changes the case of the fixed words.
		r := a.String()
		if !strings.EqualFold(r, s) {
			t.Fatalf("Parse(%q).String() = %q", s, r)
		}
		b, err := Parse(r)
		if err != nil || b != a {
			t.Fatalf("re-parse of %q = %+v, %v; want %+v", r, b, err, a)
		}
		c, err := Canonicalize(s)
		if err != nil {
			t.Fatalf("Canonicalize(%q): %v", s, err)
		}
		c2, err := Canonicalize(c)
		if err != nil || c2 != c {
			t.Fatalf("Canonicalize not stable: %q -> %q -> %q, %v", s, c, c2, err)
		}
		if a.Type != TypeAssumedRole && c != r {
			t.Fatalf("Canonicalize(%q) = %q changed a non-session ARN", s, c)
		}
		ca, _ := Parse(c)
		if ca.AccountID != a.AccountID || ca.Partition != a.Partition {
			t.Fatalf("Canonicalize(%q) = %q moved account or partition", s, c)
		}
	})
}
