package mapping

import (
	"errors"
	"testing"
)

func TestRender(t *testing.T) {
	id := Identity{AccountID: "111122223333", SessionName: "alice@example.com", AccessKeyID: "ASIAEXAMPLE"}
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
		got, err := Render(tt.tmpl, id)
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	id := Identity{AccountID: "111122223333", SessionName: "i-0123456789abcdef0"}
	if _, err := Render("system:node:{{EC2PrivateDNSName}}", id); !errors.Is(err, ErrEC2PrivateDNSNameUnsupported) {
		t.Errorf("EC2PrivateDNSName: err = %v", err)
	}
	for _, bad := range []string{
		"{{accountid}}", "{{ AccountID }}", "{{Foo}}", "{{}}", "a{{", "a}}", "}}{{AccountID}}",
		"{{AccountID}}}}", "{{{AccountID}}", "{{AccountID", "x{{SessionName}}y{{",
	} {
		if _, err := ParseTemplate(bad); !errors.Is(err, ErrBadTemplate) {
			t.Errorf("ParseTemplate(%q) err = %v, want ErrBadTemplate", bad, err)
		}
		if _, err := Render(bad, id); err == nil {
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
