package iamgroups

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

// TestScrubbedAccountKeptOutOfLog: a failed lookup of a scrubbed account's
// user logs neither the account, the user nor the ARN; another account's
// failure is logged in full.
func TestScrubbedAccountKeptOutOfLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	r := fromConfig(t, moto.Config(moto.ClosedURL(t), nil), ClientConfig{}, Options{Logger: log, ScrubbedAccounts: []string{acct}})
	if _, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+acct+":user/scrubme"); err == nil {
		t.Fatal("lookup against a closed endpoint succeeded")
	}
	if !strings.Contains(buf.String(), "iam group lookup failed") {
		t.Fatalf("no failure logged: %s", buf.String())
	}
	for _, leak := range []string{acct, "scrubme"} {
		if strings.Contains(buf.String(), leak) {
			t.Errorf("log carries %q of a scrubbed account: %s", leak, buf.String())
		}
	}
	buf.Reset()
	r = fromConfig(t, moto.Config(moto.ClosedURL(t), nil), ClientConfig{}, Options{Logger: log, ScrubbedAccounts: []string{"999999999999"}})
	_, _ = r.GroupsForUser(context.Background(), "arn:aws:iam::"+acct+":user/scrubme")
	if !strings.Contains(buf.String(), acct+":user/scrubme") {
		t.Errorf("unscrubbed account not logged in full: %s", buf.String())
	}
}
