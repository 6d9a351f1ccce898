// Package e2e runs the real "iamgate server" command (cli.Run) over real TLS
// against the STS double, and reviews tokens the way kube-apiserver does:
// through the webhook kubeconfig the server wrote, trusting only its CA.
package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/demo"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
)

// bobKey is a long-term key of arn:aws:iam::111122223333:user/bob, whom the
// example config maps to "bob" [developers].
const bobKey = "AKIADEMOBOB000000001"

// exampleConfig is the demo's mapping file, which README links to.
func exampleConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../cmd/iamgate-demo/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withServerKeys adds lines under "server:" of the example config.
func withServerKeys(t *testing.T, lines string) string {
	t.Helper()
	cfg := exampleConfig(t)
	if !strings.Contains(cfg, "\nserver:\n") {
		t.Fatal("example config has no server section")
	}
	return strings.Replace(cfg, "\nserver:\n", "\nserver:\n"+lines, 1)
}

type env struct {
	double *ststest.Server
	srv    *demo.Server
}

type envOptions struct {
	config    string            // "" means the example config
	transport http.RoundTripper // nil means the double's transport
}

// start runs the double (with every demo sample's key) and the real server;
// both stop when the test ends.
func start(t *testing.T, o envOptions) *env {
	t.Helper()
	d := ststest.Start(t)
	demo.Register(d, demo.Samples())
	if o.config == "" {
		o.config = exampleConfig(t)
	}
	if o.transport == nil {
		o.transport = d.Transport()
	}
	srv, err := demo.StartServer(context.Background(), demo.ServerOptions{
		Dir: t.TempDir(), Config: []byte(o.config), STSTransport: o.transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if code := srv.Stop(); code != 0 {
			t.Errorf("server exited with code %d", code)
		}
	})
	return &env{double: d, srv: srv}
}

// sign mints a token for the demo cluster with the real client code.
func (e *env) sign(t *testing.T, key string, at time.Time) string {
	t.Helper()
	tok, err := demo.Sign(context.Background(), e.double, key, "", at)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *env) review(t *testing.T, tok string) *demo.Review {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := e.srv.Review(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantAllowed fails unless r admits bob, the identity behind bobKey.
func wantAllowed(t *testing.T, r *demo.Review) {
	t.Helper()
	if r.HTTPStatus != http.StatusOK || !r.Status.Authenticated || r.Status.User.Username != "bob" {
		t.Fatalf("want bob allowed, got HTTP %d %+v", r.HTTPStatus, r.Status)
	}
}

// wantReason fails unless the server's audit line for tok has reason.
func (e *env) wantReason(t *testing.T, tok, reason string) {
	t.Helper()
	a, ok := e.srv.AuditFor(tok)
	if !ok {
		t.Fatalf("no audit line for token %s", demo.TokenHash(tok))
	}
	if a.Reason != reason {
		t.Fatalf("audit reason %q (detail %q), want %q", a.Reason, a.Detail, reason)
	}
}

// editURL decodes tok, applies f to its presigned URL and re-encodes it.
func editURL(t *testing.T, tok string, f func(string) string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, token.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	return token.Prefix + base64.RawURLEncoding.EncodeToString([]byte(f(string(raw))))
}

func healthz(t *testing.T, e *env) int {
	t.Helper()
	resp, err := http.Get(e.srv.HealthURL + "/healthz")
	if err != nil {
		t.Fatalf("health port: %v", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
