package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

// TestTokenCustomEndpointForCredentialChain: a role_arn/source_profile
// profile gets its AssumeRole from the custom endpoint however it is set, as
// aws-cli does, while the token still names the real regional STS host (with
// a warning saying so).
func TestTokenCustomEndpointForCredentialChain(t *testing.T) {
	endpoint := moto.Start(t).URL
	const roleProfile = `[profile admin]
role_arn = arn:aws:iam::123456789012:role/k8s-admin
source_profile = base
region = eu-west-1
`
	creds := "[base]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n"
	for _, c := range []struct {
		name, env, value, profileExtra, extraSections string
	}{
		{name: "AWS_ENDPOINT_URL", env: "AWS_ENDPOINT_URL", value: endpoint},
		{name: "AWS_ENDPOINT_URL_STS", env: "AWS_ENDPOINT_URL_STS", value: endpoint},
		{name: "profile endpoint_url", profileExtra: "endpoint_url = " + endpoint + "\n"},
		{name: "profile services section", profileExtra: "services = local\n",
			extraSections: "\n[services local]\nsts =\n  endpoint_url = " + endpoint + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTokenEnv(t)
			if c.env != "" {
				t.Setenv(c.env, c.value)
			}
			e.writeAWSFiles(roleProfile+c.profileExtra+"\n[profile base]\nregion = eu-west-1\n"+c.extraSections, creds)
			t.Setenv("AWS_PROFILE", "admin")
			e.mustRun("token", "-i", "my-cluster")
			u := decodeTokenURL(t, e.cred().Status.Token)
			q := u.Query()
			if strings.HasPrefix(q.Get("X-Amz-Credential"), testKeyID) || q.Get("X-Amz-Security-Token") == "" {
				t.Fatal("token not signed with the assumed role's credentials")
			}
			if u.Host != "sts.eu-west-1.amazonaws.com" {
				t.Fatalf("token host %q: the custom endpoint leaked into the token", u.Host)
			}
			if !strings.Contains(e.stderr, "warning: custom STS endpoint "+endpoint+" is used only to get credentials") ||
				!strings.Contains(e.stderr, "sts.eu-west-1.amazonaws.com") || strings.Count(e.stderr, "\n") != 1 {
				t.Fatalf("want one warning naming the endpoint and the real host, stderr %q", e.stderr)
			}
		})
	}
}

// TestTokenWebIdentityUsesCustomEndpoint: AssumeRoleWithWebIdentity (EKS
// pod identity via IRSA, CI OIDC) follows AWS_ENDPOINT_URL too.
func TestTokenWebIdentityUsesCustomEndpoint(t *testing.T) {
	endpoint := moto.Start(t).URL
	e := newTokenEnv(t)
	tokenFile := filepath.Join(e.dir, "web-identity-token")
	if err := os.WriteFile(tokenFile, []byte("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_REGION", "us-west-2")
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
	e.mustRun("token", "-i", "c1")
	u := decodeTokenURL(t, e.cred().Status.Token)
	if u.Query().Get("X-Amz-Security-Token") == "" || u.Host != "sts.us-west-2.amazonaws.com" {
		t.Fatalf("token %s: not signed with web identity credentials for the real host", u.Redacted())
	}
}
