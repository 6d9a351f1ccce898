package execcred

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientauthv1beta1 "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"
)

func strictDecode(t *testing.T, b []byte, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("strict decode of %s: %v", b, err)
	}
}

func TestMarshalDecodesIntoClientGoTypes(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 999_000_000, time.FixedZone("x", 3600))
	const tok = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8"

	b, err := Marshal(V1, tok, exp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("}\n")) || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("want one JSON line, got %q", b)
	}
	var v1 clientauthv1.ExecCredential
	strictDecode(t, b, &v1)
	if v1.Kind != "ExecCredential" || v1.APIVersion != V1 {
		t.Fatalf("type meta = %q %q", v1.Kind, v1.APIVersion)
	}
	if v1.Status == nil || v1.Status.Token != tok {
		t.Fatalf("status = %+v", v1.Status)
	}
	want := time.Date(2030, 1, 2, 2, 4, 5, 0, time.UTC)
	if !v1.Status.ExpirationTimestamp.Time.Equal(want) {
		t.Fatalf("expiration = %v, want %v (UTC, rounded down)", v1.Status.ExpirationTimestamp, want)
	}
	if !strings.Contains(string(b), `"expirationTimestamp":"2030-01-02T02:04:05Z"`) {
		t.Fatalf("timestamp not RFC 3339 UTC seconds: %s", b)
	}

	b, err = Marshal(V1beta1, tok, exp)
	if err != nil {
		t.Fatal(err)
	}
	var v1beta1 clientauthv1beta1.ExecCredential
	strictDecode(t, b, &v1beta1)
	if v1beta1.APIVersion != V1beta1 || v1beta1.Status.Token != tok {
		t.Fatalf("v1beta1 = %+v", v1beta1)
	}

	if _, err := Marshal("client.authentication.k8s.io/v1alpha1", tok, exp); err == nil {
		t.Fatal("Marshal accepted an apiVersion kubectl would reject")
	}
}

func TestParseInfo(t *testing.T) {
	cases := []struct {
		name, raw, version string
		interactive, warn  bool
	}{
		{"v1", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`, V1, true, false},
		{"v1beta1", `{"apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`, V1beta1, true, false},
		{"non-interactive", `{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`, V1, false, false},
		{"interactive missing", `{"apiVersion":"client.authentication.k8s.io/v1","spec":{}}`, V1, true, false},
		{"unset: no warning by hand", ``, V1beta1, true, false},
		{"malformed", `{"apiVersion":`, V1beta1, true, true},
		{"unknown", `{"apiVersion":"client.authentication.k8s.io/v1alpha1"}`, V1beta1, true, true},
		{"unknown keeps interactive", `{"apiVersion":"x/v9","spec":{"interactive":false}}`, V1beta1, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseInfo(c.raw)
			if got.APIVersion != c.version || got.Interactive != c.interactive || (got.Warning != "") != c.warn {
				t.Fatalf("ParseInfo(%q) = %+v", c.raw, got)
			}
			if strings.Contains(got.Warning, "\n") {
				t.Fatalf("warning spans lines: %q", got.Warning)
			}
		})
	}
}

// TestWrite covers the one answer path both binaries use: the token alone,
// or the ExecCredential with the fallback warning on stderr only.
func TestWrite(t *testing.T) {
	const tok = "k8s-aws-v1.dG9r"
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var out, errb bytes.Buffer
	if err := Write(&out, &errb, ParseInfo(""), true, tok, exp); err != nil {
		t.Fatal(err)
	}
	if out.String() != tok+"\n" || errb.Len() != 0 {
		t.Fatalf("token only: stdout %q stderr %q", out.String(), errb.String())
	}
	out.Reset()
	info := ParseInfo(`{"apiVersion":"x/v9"}`)
	if err := Write(&out, &errb, info, false, tok, exp); err != nil {
		t.Fatal(err)
	}
	var c clientauthv1beta1.ExecCredential
	strictDecode(t, out.Bytes(), &c)
	if c.Status.Token != tok || !c.Status.ExpirationTimestamp.Time.Equal(exp) {
		t.Fatalf("ExecCredential %+v", c.Status)
	}
	if errb.String() != "warning: "+info.Warning+"\n" || strings.Contains(out.String(), "warning") {
		t.Fatalf("stderr %q", errb.String())
	}
	if err := Write(failWriter{}, &errb, ParseInfo(""), true, tok, exp); err == nil || !strings.Contains(err.Error(), "write token") {
		t.Fatalf("write failure: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }
