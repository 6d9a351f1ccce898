package arn

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in   string
		want ARN
	}{
		{"arn:aws:iam::111122223333:user/alice",
			ARN{Partition: "aws", Service: "iam", AccountID: "111122223333", Type: "user", Path: "/", Name: "alice"}},
		{"arn:aws:iam::111122223333:user/team/dev/alice",
			ARN{Partition: "aws", Service: "iam", AccountID: "111122223333", Type: "user", Path: "/team/dev/", Name: "alice"}},
		{"arn:aws-cn:iam::111122223333:role/Admin",
			ARN{Partition: "aws-cn", Service: "iam", AccountID: "111122223333", Type: "role", Path: "/", Name: "Admin"}},
		{"arn:aws-us-gov:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123abcd",
			ARN{Partition: "aws-us-gov", Service: "iam", AccountID: "111122223333", Type: "role",
				Path: "/aws-reserved/sso.amazonaws.com/", Name: "AWSReservedSSO_Dev_0123abcd"}},
		{"arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com",
			ARN{Partition: "aws", Service: "sts", AccountID: "111122223333", Type: "assumed-role", Name: "Admin", SessionName: "alice@example.com"}},
		{"arn:aws-iso-b:sts::111122223333:federated-user/bob",
			ARN{Partition: "aws-iso-b", Service: "sts", AccountID: "111122223333", Type: "federated-user", Name: "bob"}},
		{"arn:aws-eusc:iam::111122223333:root",
			ARN{Partition: "aws-eusc", Service: "iam", AccountID: "111122223333", Type: "root"}},
		// Fixed words in any case, as aws-iam-authenticator lower-cases ARNs.
		{"ARN:AWS:IAM::111122223333:Role/Admin",
			ARN{Partition: "aws", Service: "iam", AccountID: "111122223333", Type: "role", Path: "/", Name: "Admin"}},
		{"arn:aws:iam::111122223333:ROOT",
			ARN{Partition: "aws", Service: "iam", AccountID: "111122223333", Type: "root"}},
	}
	for _, p := range []string{"aws-iso", "aws-iso-e", "aws-iso-f"} {
		tests = append(tests, struct {
			in   string
			want ARN
		}{"arn:" + p + ":iam::111122223333:role/r",
			ARN{Partition: p, Service: "iam", AccountID: "111122223333", Type: "role", Path: "/", Name: "r"}})
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if !strings.EqualFold(got.String(), tt.in) {
			t.Errorf("Parse(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	bad := []string{
		"",
		"arn",
		"arn:aws:iam::111122223333",
		"arn:aws:iam::111122223333:",
		"arn:aws:iam::111122223333:user",
		"arn:aws:iam::111122223333:user/",
		"arn:aws:iam::111122223333:user//alice",
		"arn:aws:iam::111122223333:user/team//alice",
		"arn:aws:iam::111122223333:user/alice/",
		"arn:aws:iam::111122223333:role/a:b",            // extra colon
		"arn:aws:iam::111122223333:role/admin:",         // extra colon
		"arn:aws:iam:us-east-1:111122223333:role/admin", // region
		"arn:aws:sts::111122223333:role/admin",          // wrong service
		"arn:aws:iam::111122223333:assumed-role/admin/s",
		"arn:aws:iam::111122223333:federated-user/bob",
		"arn:aws:sts::111122223333:user/alice",
		"arn:aws:sts::111122223333:root",
		"arn:aws:sts::111122223333:assumed-role/admin",
		"arn:aws:sts::111122223333:assumed-role/admin/",
		"arn:aws:sts::111122223333:assumed-role//s",
		"arn:aws:sts::111122223333:assumed-role/path/admin/s",
		"arn:aws:sts::111122223333:federated-user/a/b",
		"arn:aws:sts::111122223333:federated-user/",
		"arn:aws:iam::111122223333:root/x",
		"arn:aws:iam::111122223333:group/devs",
		"arn:aws:iam::111122223333:policy/p",
		"arn:aws:iam::11112222333:root",   // 11 digits
		"arn:aws:iam::1111222233334:root", // 13 digits
		"arn:aws:iam::11112222333a:root",
		"arn:aws:iam:::root",
		"arn:aws:iam::*:root",
		"arn:aws:iam::111122223333:role/*",
		"arn:aws:iam::111122223333:role/adm*",
		"arn:aws-foo:iam::111122223333:root",
		"arn::iam::111122223333:root",
		"arn:aws:s3::111122223333:root",
		"urn:aws:iam::111122223333:root",
		" arn:aws:iam::111122223333:root",
		"arn:aws:iam::111122223333:root ",
		"arn:aws:iam::111122223333:role/ad min",
		"arn:aws:iam::111122223333:role/admin\n",
		"arn:aws:iam::111122223333:role/admin\x00",
		"arn:aws:iam::111122223333:role/adm\u00efn",
		"arn:aws:iam::111122223333:role/" + strings.Repeat("a", 65),
		"arn:aws:iam::111122223333:role" + strings.Repeat("/aaaaaaaa", 60) + "/r",
		"arn:aws:iam::111122223333:role/" + strings.Repeat("a", 5000),
	}
	for _, s := range bad {
		if a, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %+v, want error", s, a)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
		}
		if _, err := Canonicalize(s); err == nil {
			t.Errorf("Canonicalize(%q) succeeded, want error", s)
		}
	}
}

func TestCanonicalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com", "arn:aws:iam::111122223333:role/Admin"},
		{"arn:aws-cn:sts::111122223333:assumed-role/node/i-0123456789abcdef0", "arn:aws-cn:iam::111122223333:role/node"},
		{"arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/Admin"},
		{"arn:aws:iam::111122223333:role/team/Admin", "arn:aws:iam::111122223333:role/team/Admin"},
		{"arn:aws:iam::111122223333:user/team/alice", "arn:aws:iam::111122223333:user/team/alice"},
		{"arn:aws:sts::111122223333:federated-user/bob", "arn:aws:sts::111122223333:federated-user/bob"},
		{"arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:root"},
		{"ARN:AWS:STS::111122223333:ASSUMED-ROLE/Admin/s", "arn:aws:iam::111122223333:role/Admin"},
	}
	for _, tt := range tests {
		got, err := Canonicalize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Canonicalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRoleKey(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/admin", true},
		{"arn:aws:iam::111122223333:role/team/Admin", "arn:aws:iam::111122223333:role/admin", true},
		{"arn:aws:sts::111122223333:assumed-role/Admin/s", "arn:aws:iam::111122223333:role/admin", true},
		{"arn:aws:iam::111122223333:user/Admin", "", false},
		{"arn:aws:iam::111122223333:root", "", false},
		{"arn:aws:sts::111122223333:federated-user/Admin", "", false},
	}
	for _, tt := range tests {
		a, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := a.RoleKey()
		if got != tt.want || ok != tt.ok {
			t.Errorf("RoleKey(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsAccountID(t *testing.T) {
	for s, want := range map[string]bool{
		"111122223333": true, "000000000000": true, "11112222333": false,
		"1111222233334": false, "11112222333x": false, "": false, "+11122223333": false,
	} {
		if got := IsAccountID(s); got != want {
			t.Errorf("IsAccountID(%q) = %v", s, got)
		}
	}
}
