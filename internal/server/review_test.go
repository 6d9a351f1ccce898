package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

func TestReviewRoundTripKeepsAPIVersion(t *testing.T) {
	h := start(t, nil)
	for _, v := range []string{apiV1, apiV1beta1} {
		t.Run(v, func(t *testing.T) {
			code, rr, body := h.review(t, v, testToken)
			if code != http.StatusOK || !rr.Status.Authenticated {
				t.Fatalf("got %d %s, want 200 authenticated", code, body)
			}
			if rr.APIVersion != v || rr.Kind != "TokenReview" {
				t.Errorf("answered %s %s, want %s TokenReview", rr.APIVersion, rr.Kind, v)
			}
			if rr.Status.User.Username != "admin" || !cmp.Equal(rr.Status.User.Groups, []string{"system:masters"}) {
				t.Errorf("user = %+v", rr.Status.User)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := start(t, nil)
	resp, err := h.client.Get(h.url + "/authenticate")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Fatalf("GET: %d Allow=%q, want 405 Allow=POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestContentTypeMustBeJSON(t *testing.T) {
	h := start(t, nil)
	for ct, want := range map[string]int{
		"text/plain":                       http.StatusBadRequest,
		"":                                 http.StatusBadRequest,
		"application/json; charset=latin1": http.StatusBadRequest,
		"application/json; charset=UTF-8":  http.StatusOK,
		"application/json":                 http.StatusOK,
	} {
		resp, body := h.post(t, ct, reviewBody(apiV1, testToken))
		if resp.StatusCode != want {
			t.Errorf("Content-Type %q: %d %s, want %d", ct, resp.StatusCode, body, want)
		}
	}
}

func TestRejectsWrongKindVersionOrJSON(t *testing.T) {
	h := start(t, nil)
	for name, body := range map[string]string{
		"kind":          `{"apiVersion":"authentication.k8s.io/v1","kind":"SubjectAccessReview","spec":{"token":"x"}}`,
		"no kind":       `{"apiVersion":"authentication.k8s.io/v1","spec":{"token":"x"}}`,
		"apiVersion":    `{"apiVersion":"authentication.k8s.io/v2","kind":"TokenReview","spec":{"token":"x"}}`,
		"no apiVersion": `{"kind":"TokenReview","spec":{"token":"x"}}`,
		"malformed":     `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",`,
		"trailing":      reviewBody(apiV1, testToken) + `{}`,
		"wrong type":    `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":42}}`,
		"null":          `null`,
	} {
		resp, out := h.post(t, "application/json", body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, out)
		}
	}
	// Unknown fields are tolerated: a newer apiserver may send some.
	resp, out := h.post(t, "application/json",
		`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","metadata":{"x":1},"spec":{"token":"`+testToken+`","future":true}}`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("unknown fields: %d %s, want 200", resp.StatusCode, out)
	}
}

func TestBodyTooLarge(t *testing.T) {
	h := start(t, nil)
	big := reviewBody(apiV1, strings.Repeat("a", MaxRequestBytes))
	resp, _ := h.post(t, "application/json", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d, want 413", resp.StatusCode)
	}
}

// Every failure is authenticated=false with a generic error; no token, STS
// text or other detail reaches the response or the log.
func TestFailuresAreGenericDenies(t *testing.T) {
	const leak = "SignatureDoesNotMatch-internal-detail"
	stsErr := func(sentinel error) IdentityVerifier {
		return fakeVerifier(func(context.Context, string, *token.Request, string) (sts.Identity, error) {
			return sts.Identity{}, fmt.Errorf("%w: %s url=%s", sentinel, leak, testURL)
		})
	}
	cases := []struct {
		name, reason, public string
		mutate               func(*Config)
	}{
		{"validator", "bad_host", errInvalidToken, func(c *Config) {
			c.Validator = fakeValidator(func(tok string) (*token.Request, error) {
				return nil, &token.Error{Reason: "bad_host", Detail: leak + " " + tok}
			})
		}},
		{"sts invalid", "sts_invalid", errInvalidToken, func(c *Config) { c.Verifier = stsErr(sts.ErrInvalidToken) }},
		{"sts unavailable", "sts_unavailable", errSTSUnavailable, func(c *Config) { c.Verifier = stsErr(sts.ErrUnavailable) }},
		{"sts other", "sts_error", errSTSUnavailable, func(c *Config) { c.Verifier = stsErr(errors.New("boom")) }},
		{"bad arn", "bad_arn", errInvalidIdentity, func(c *Config) {
			c.Verifier = identityVerifier(sts.Identity{ARN: "arn:aws:s3:::" + leak, Account: testAccount, UserID: "AIDA"})
		}},
		{"account mismatch", "identity_mismatch", errInvalidIdentity, func(c *Config) {
			c.Verifier = identityVerifier(sts.Identity{ARN: testARN, Account: "999988887777", UserID: testUserID})
		}},
		{"incomplete identity", "bad_identity", errInvalidIdentity, func(c *Config) {
			c.Verifier = identityVerifier(sts.Identity{ARN: testARN, Account: testAccount})
		}},
		{"not mapped", "not_mapped", errNotMapped, func(c *Config) {
			c.Mappers = []mapping.Mapper{arnMapper("MountedFile", "arn:aws:iam::111122223333:role/Other", "x")}
		}},
		{"mapping error", "mapping_error", errMapping, func(c *Config) {
			c.Mappers = []mapping.Mapper{fakeMapper{name: "CRD", fn: func(context.Context, mapping.Identity) (*mapping.Result, error) {
				return nil, errors.New(leak)
			}}}
		}},
		{"empty username", "mapping_error", errMapping, func(c *Config) {
			c.Mappers = []mapping.Mapper{fakeMapper{name: "CRD", fn: func(context.Context, mapping.Identity) (*mapping.Result, error) {
				return &mapping.Result{Groups: []string{"system:masters"}}, nil
			}}}
		}},
		{"validator panic", "panic", errInternal, func(c *Config) {
			c.Validator = fakeValidator(func(tok string) (*token.Request, error) { panic("bad " + tok) })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, tc.mutate)
			code, rr, body := h.review(t, apiV1, testToken)
			if code != http.StatusForbidden || rr.Status.Authenticated || rr.Status.User.Username != "" {
				t.Fatalf("got %d %s, want 403 unauthenticated", code, body)
			}
			if rr.Status.Error != tc.public {
				t.Errorf("status.error = %q, want %q", rr.Status.Error, tc.public)
			}
			for _, secret := range []string{testToken, leak, testSignature} {
				if strings.Contains(body, secret) {
					t.Errorf("response leaks %q: %s", secret, body)
				}
				if strings.Contains(h.logs.String(), secret) && secret != leak {
					t.Errorf("log leaks %q", secret)
				}
			}
			lines := h.logs.reviews(t)
			if len(lines) != 1 || lines[0]["reason"] != tc.reason || lines[0]["decision"] != "deny" {
				t.Errorf("audit = %v, want one deny with reason %q", lines, tc.reason)
			}
		})
	}
}

func TestThrottledIs429(t *testing.T) {
	h := start(t, func(c *Config) {
		c.Verifier = fakeVerifier(func(context.Context, string, *token.Request, string) (sts.Identity, error) {
			return sts.Identity{}, fmt.Errorf("get caller identity: %w", sts.ErrThrottled)
		})
	})
	code, rr, _ := h.review(t, apiV1, testToken)
	if code != http.StatusTooManyRequests || rr.Status.Authenticated || rr.Status.Error != errThrottled {
		t.Fatalf("got %d %+v, want 429 throttled deny", code, rr.Status)
	}
}

func TestMapperErrorDeniesEvenIfLaterMapperAllows(t *testing.T) {
	h := start(t, func(c *Config) {
		broken := fakeMapper{name: "EKSConfigMap", fn: func(context.Context, mapping.Identity) (*mapping.Result, error) {
			return nil, errors.New("template {{EC2PrivateDNSName}}: describe instances failed")
		}}
		c.Mappers = []mapping.Mapper{broken, arnMapper("MountedFile", testCanonical, "admin", "system:masters")}
	})
	code, rr, body := h.review(t, apiV1, testToken)
	if code != http.StatusForbidden || rr.Status.Authenticated {
		t.Fatalf("got %d %s, want deny", code, body)
	}
}

func TestFirstMapperWins(t *testing.T) {
	var secondCalled atomic.Bool
	h := start(t, func(c *Config) {
		second := fakeMapper{name: "CRD", fn: func(context.Context, mapping.Identity) (*mapping.Result, error) {
			secondCalled.Store(true)
			return &mapping.Result{Username: "second", Groups: []string{"system:masters"}}, nil
		}}
		c.Mappers = []mapping.Mapper{
			arnMapper("MountedFile", "arn:aws:iam::111122223333:role/Other", "other"), // not mapped: next
			arnMapper("EKSConfigMap", testCanonical, "first", "viewers"),
			second,
		}
	})
	_, rr, body := h.review(t, apiV1, testToken)
	if rr.Status.User.Username != "first" || secondCalled.Load() {
		t.Fatalf("got %s (second called %v), want the first mapping that matches", body, secondCalled.Load())
	}
	if got := h.logs.reviews(t)[0]["source"]; got != "EKSConfigMap mapRoles["+testCanonical+"]" {
		t.Errorf("audit source = %v", got)
	}
}

// The mapper receives the identity fields the contract promises.
func TestMapperSeesVerifiedIdentity(t *testing.T) {
	seen := make(chan mapping.Identity, 1)
	h := start(t, func(c *Config) {
		c.Mappers = []mapping.Mapper{fakeMapper{name: "MountedFile", fn: func(_ context.Context, id mapping.Identity) (*mapping.Result, error) {
			seen <- id
			return &mapping.Result{Username: "u"}, nil
		}}}
	})
	h.review(t, apiV1, testToken)
	got := <-seen
	want := mapping.Identity{ARN: testARN, CanonicalARN: testCanonical, AccountID: testAccount,
		UserID: testUserID, SessionName: "alice", AccessKeyID: testAKID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
}

func TestUIDAndExtraFormat(t *testing.T) {
	h := start(t, nil)
	_, rr, _ := h.review(t, apiV1beta1, testToken)
	if want := "aws-iam-authenticator:111122223333:AROAEXAMPLEID"; rr.Status.User.UID != want {
		t.Errorf("uid = %q, want %q", rr.Status.User.UID, want)
	}
	want := map[string][]string{
		"arn": {testARN}, "canonicalArn": {testCanonical}, "sessionName": {"alice"},
		"accessKeyId": {testAKID}, "principalId": {"AROAEXAMPLEID"},
	}
	if diff := cmp.Diff(want, rr.Status.User.Extra); diff != "" {
		t.Errorf("extra (-want +got):\n%s", diff)
	}
}

func TestUIDForIAMUserKeepsWholeUserID(t *testing.T) {
	h := start(t, func(c *Config) {
		c.Verifier = identityVerifier(sts.Identity{ARN: "arn:aws:iam::111122223333:user/bob", Account: testAccount, UserID: "AIDABOB"})
		c.Mappers = []mapping.Mapper{arnMapper("MountedFile", "arn:aws:iam::111122223333:user/bob", "bob")}
	})
	_, rr, _ := h.review(t, apiV1, testToken)
	if rr.Status.User.UID != "aws-iam-authenticator:111122223333:AIDABOB" || rr.Status.User.Extra["sessionName"][0] != "" {
		t.Errorf("user = %+v", rr.Status.User)
	}
}

func TestScrubbedAccountsOmitIdentity(t *testing.T) {
	h := start(t, func(c *Config) { c.ScrubbedAccounts = []string{testAccount} })
	code, rr, body := h.review(t, apiV1, testToken)
	if code != http.StatusOK || !rr.Status.Authenticated {
		t.Fatalf("got %d %s", code, body)
	}
	if rr.Status.User.Extra != nil || rr.Status.User.UID != "aws-iam-authenticator:administrative:admin" {
		t.Errorf("user = %+v, want no extra and administrative uid", rr.Status.User)
	}
	if strings.Contains(body, "AROAEXAMPLEID") || strings.Contains(h.logs.String(), testARN) {
		t.Errorf("scrubbed identity leaked: %s", body)
	}
}

// An AWS token has no audience: echoing spec.audiences would accept it for
// any audience a TokenReview client asks about.
func TestAudiencesNotEchoed(t *testing.T) {
	h := start(t, nil)
	resp, body := h.post(t, "application/json",
		`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+testToken+`","audiences":["vault"]}}`)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "vault") {
		t.Fatalf("got %d %s, want allow without audiences", resp.StatusCode, body)
	}
}

func TestPanicInMapperDenies(t *testing.T) {
	h := start(t, func(c *Config) {
		c.Mappers = []mapping.Mapper{fakeMapper{name: "CRD", fn: func(context.Context, mapping.Identity) (*mapping.Result, error) {
			panic("nil map")
		}}}
	})
	code, rr, body := h.review(t, apiV1, testToken)
	if code != http.StatusForbidden || rr.Status.Authenticated || rr.Status.Error != errInternal {
		t.Fatalf("got %d %s, want 403 deny", code, body)
	}
	if code, _, _ := h.review(t, apiV1, testToken); code != http.StatusForbidden {
		t.Errorf("server did not keep answering after a panic: %d", code)
	}
}
