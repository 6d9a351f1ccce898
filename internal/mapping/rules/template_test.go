package rules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// render parses tmpl and renders it for id, as a username is rendered.
func render(tmpl string, id mapping.Identity) (string, error) {
	t, err := ParseTemplate(tmpl)
	if err != nil {
		return "", err
	}
	return t.render(id, func() (string, error) { return "", ErrEC2PrivateDNSNameUnsupported })
}

func TestRender(t *testing.T) {
	id := mapping.Identity{AccountID: "111122223333", SessionName: "alice@example.com", AccessKeyID: "ASIAEXAMPLE"}
	tests := []struct{ tmpl, want string }{
		{"plain", "plain"},
		{"", ""},
		{"{{AccountID}}", "111122223333"},
		{"{{SessionName}}", "alice-example.com"},
		{"{{SessionNameRaw}}", "alice@example.com"},
		{"{{AccessKeyID}}", "ASIAEXAMPLE"},
		{"admin:{{AccessKeyID}}:{{SessionName}}", "admin:ASIAEXAMPLE:alice-example.com"},
		{"{{AccountID}}{{AccountID}}", "111122223333111122223333"},
		{"a{b}c", "a{b}c"},
		{"{", "{"},
	}
	for _, tt := range tests {
		got, err := render(tt.tmpl, id)
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	id := mapping.Identity{AccountID: "111122223333", SessionName: "i-0123456789abcdef0"}
	if _, err := render("system:node:{{EC2PrivateDNSName}}", id); !errors.Is(err, ErrEC2PrivateDNSNameUnsupported) {
		t.Errorf("EC2PrivateDNSName: err = %v", err)
	}
	for _, bad := range []string{
		"{{accountid}}", "{{ AccountID }}", "{{Foo}}", "{{}}", "a{{", "a}}", "}}{{AccountID}}",
		"{{AccountID}}}}", "{{{AccountID}}", "{{AccountID", "x{{SessionName}}y{{",
	} {
		if _, err := ParseTemplate(bad); !errors.Is(err, ErrBadTemplate) {
			t.Errorf("ParseTemplate(%q) err = %v, want ErrBadTemplate", bad, err)
		}
		if _, err := render(bad, id); err == nil {
			t.Errorf("Render(%q) succeeded", bad)
		}
	}
}

func TestTemplateUses(t *testing.T) {
	tm, err := ParseTemplate("system:node:{{EC2PrivateDNSName}}")
	if err != nil {
		t.Fatal(err)
	}
	if !tm.Uses(VarEC2PrivateDNSName) || tm.Uses(VarAccountID) || tm.String() != "system:node:{{EC2PrivateDNSName}}" {
		t.Errorf("Uses/String wrong for %q", tm)
	}
}

type ec2Func func(ctx context.Context, account, instance string) (string, error)

func (f ec2Func) PrivateDNSName(ctx context.Context, account, instance string) (string, error) {
	return f(ctx, account, instance)
}

func TestRenderContextEC2(t *testing.T) {
	tm, _ := ParseTemplate("system:node:{{EC2PrivateDNSName}}")
	var gotAccount, gotInstance string
	ok := ec2Func(func(_ context.Context, a, i string) (string, error) {
		gotAccount, gotInstance = a, i
		return "ip-10-0-0-1.ec2.internal", nil
	})
	id := mapping.Identity{AccountID: "111122223333", SessionName: "i-0123456789abcdef0"}
	got, err := renderEC2(tm, id, ok)
	if err != nil || got != "system:node:ip-10-0-0-1.ec2.internal" || gotAccount != id.AccountID || gotInstance != id.SessionName {
		t.Errorf("render = %q, %v (asked %s/%s)", got, err, gotAccount, gotInstance)
	}
	if _, err := renderEC2(tm, id, nil); !errors.Is(err, ErrEC2PrivateDNSNameUnsupported) {
		t.Errorf("nil resolver: %v", err)
	}
	fail := ec2Func(func(context.Context, string, string) (string, error) { return "", errors.New("throttled") })
	if _, err := renderEC2(tm, id, fail); !errors.Is(err, ErrEC2PrivateDNSName) || !strings.Contains(err.Error(), "throttled") {
		t.Errorf("lookup failure: %v", err)
	}
	for _, name := range []string{"", "UPPER.ec2.internal", "a..b", "-a.b", "a b", "a:b", strings.Repeat("a", 64) + ".b"} {
		bad := ec2Func(func(context.Context, string, string) (string, error) { return name, nil })
		if _, err := renderEC2(tm, id, bad); !errors.Is(err, ErrEC2PrivateDNSName) {
			t.Errorf("answer %q accepted: %v", name, err)
		}
	}
	called := false
	spy := ec2Func(func(context.Context, string, string) (string, error) { called = true; return "x", nil })
	for _, sess := range []string{"", "node", "i-", "i-0123456", "i-0123456789abcdef", "i-0123456789abcdef01", "I-0123456789abcdef0", "i-0123456789ABCDEF0", "i-0123456g"} {
		id.SessionName = sess
		if _, err := renderEC2(tm, id, spy); !errors.Is(err, ErrEC2PrivateDNSName) {
			t.Errorf("session %q: %v", sess, err)
		}
	}
	if called {
		t.Error("resolver asked about a session not named like an instance")
	}
}

func TestIsInstanceID(t *testing.T) {
	for _, s := range []string{"i-01234567", "i-0123456789abcdef0", "i-abcdef01"} {
		if !isInstanceID(s) {
			t.Errorf("isInstanceID(%q) = false", s)
		}
	}
}

// renderEC2 renders tm resolving {{EC2PrivateDNSName}} through ec2, as a
// review does.
func renderEC2(tm Template, id mapping.Identity, ec2 EC2Resolver) (string, error) {
	return tm.render(id, func() (string, error) { return resolveEC2(context.Background(), id, ec2) })
}
