package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// TestScrubbedAccountOutOfEveryAuditField: for a scrubbed account neither
// the account id nor the ARN appears anywhere in the log, including the
// fields a mapping fills in: mapAccounts renders the ARN as the username,
// a source names the entry's ARN (in the case it was written), templates
// can put the account into groups, and an error detail may quote the ARN.
func TestScrubbedAccountOutOfEveryAuditField(t *testing.T) {
	accountsLike := fakeMapper{name: "EKSConfigMap", fn: func(_ context.Context, id mapping.Identity) (*mapping.Result, error) {
		return &mapping.Result{Username: id.CanonicalARN, Groups: []string{"team:" + id.AccountID},
			Source: "EKSConfigMap kube-system/aws-auth mapRoles[ARN:AWS:IAM::111122223333:ROLE/ADMIN]"}, nil
	}}
	failing := fakeMapper{name: "CRD", fn: func(_ context.Context, id mapping.Identity) (*mapping.Result, error) {
		return nil, fmt.Errorf("iam group lookup for %s (%s, key %s) failed: %w", id.ARN, id.UserID, id.AccessKeyID, errors.New("boom"))
	}}
	for name, m := range map[string]mapping.Mapper{"allow": accountsLike, "mapping error": failing} {
		t.Run(name, func(t *testing.T) {
			h := start(t, func(c *Config) {
				c.ScrubbedAccounts = []string{testAccount}
				c.Mappers = []mapping.Mapper{m}
			})
			h.review(t, apiV1, testToken)
			logs := h.logs.String()
			lines := h.logs.reviews(t)
			if len(lines) != 1 {
				t.Fatalf("want one audit line, got %d:\n%s", len(lines), logs)
			}
			for _, leak := range []string{testAccount, "AROAEXAMPLEID", testAKID, "alice"} {
				if strings.Contains(logs, leak) {
					t.Errorf("log carries %q of a scrubbed account:\n%s", leak, logs)
				}
			}
			if lines[0]["scrubbed"] != true {
				t.Errorf("audit line not marked scrubbed: %v", lines[0])
			}
		})
	}
}

// TestUnscrubbedAccountLogsInFull: scrubbing touches only listed accounts.
func TestUnscrubbedAccountLogsInFull(t *testing.T) {
	h := start(t, func(c *Config) { c.ScrubbedAccounts = []string{"999999999999"} })
	h.review(t, apiV1, testToken)
	lines := h.logs.reviews(t)
	if len(lines) != 1 || lines[0]["arn"] != testARN || !strings.Contains(lines[0]["source"].(string), testCanonical) {
		t.Fatalf("audit line %v", lines)
	}
}

func TestReplaceFoldASCII(t *testing.T) {
	for _, tc := range []struct{ in, old, want string }{
		{"a ARN:aws:X b arn:AWS:x", "arn:aws:x", "a [scrubbed] b [scrubbed]"},
		{"nothing here", "arn", "nothing here"},
		{"111122223333:111122223333", "111122223333", "[scrubbed]:[scrubbed]"},
	} {
		if got := replaceFoldASCII(tc.in, tc.old, scrubbedText); got != tc.want {
			t.Errorf("replaceFoldASCII(%q, %q) = %q, want %q", tc.in, tc.old, got, tc.want)
		}
	}
}
