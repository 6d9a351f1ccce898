package server

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/file"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/sts"
)

// With the real MountedFile backend, templates render from the verified
// identity ({{AccessKeyID}} from the checked credential, {{SessionName}}
// from the ARN) and mapAccounts maps to the canonical ARN.
func TestRealFileBackend(t *testing.T) {
	backend, err := file.New("MountedFile", []mapping.Entry{
		{Kind: mapping.KindRole, ARN: testCanonical, Username: "admin:{{AccessKeyID}}:{{SessionName}}", Groups: []string{"system:masters"}},
		{Kind: mapping.KindAccount, Account: "444455556666"},
	}, rules.Options{})
	must(t, err)
	h := start(t, func(c *Config) { c.Mappers = []mapping.Mapper{backend} })
	code, rr, body := h.review(t, apiV1, testToken)
	if code != http.StatusOK || rr.Status.User.Username != "admin:"+testAKID+":alice" ||
		!cmp.Equal(rr.Status.User.Groups, []string{"system:masters"}) {
		t.Fatalf("role: %d %s", code, body)
	}

	h2 := start(t, func(c *Config) {
		c.Mappers = []mapping.Mapper{backend}
		c.Verifier = identityVerifier(sts.Identity{ARN: "arn:aws:iam::444455556666:user/carol", Account: "444455556666", UserID: "AIDACAROL"})
	})
	code, rr, body = h2.review(t, apiV1, testToken)
	if code != http.StatusOK || rr.Status.User.Username != "arn:aws:iam::444455556666:user/carol" || len(rr.Status.User.Groups) != 0 {
		t.Fatalf("account: %d %s", code, body)
	}
}
