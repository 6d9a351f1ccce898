package file

import (
	"log/slog"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, entries []mapping.Entry, o rules.Options) (mapping.Mapper, error) {
		o.Logger = slog.New(slog.DiscardHandler)
		b, err := New("MountedFile", entries, o)
		if err != nil {
			return nil, err
		}
		return b, nil
	}, conformance.Capabilities{})
}

func TestNewRejectsInvalidEntries(t *testing.T) {
	role := func(a, username, userID string) []mapping.Entry {
		return []mapping.Entry{{Kind: mapping.KindRole, ARN: a, Username: username, UserID: userID}}
	}
	user := func(a, username string) []mapping.Entry {
		return []mapping.Entry{{Kind: mapping.KindUser, ARN: a, Username: username}}
	}
	for name, entries := range map[string][]mapping.Entry{
		"user ARN as role":  role("arn:aws:iam::111122223333:user/a", "a", ""),
		"role ARN as user":  user("arn:aws:iam::111122223333:role/a", "a"),
		"empty username":    role("arn:aws:iam::111122223333:role/a", "", ""),
		"unknown template":  role("arn:aws:iam::111122223333:role/a", "{{Foo}}", ""),
		"bad account":       {{Kind: mapping.KindAccount, Account: "1234"}},
		"bad userid":        role("arn:aws:iam::111122223333:role/a", "a", "AROA:x"),
		"unparseable ARN":   role("arn:aws:iam::111122223333:role/a b", "a", ""),
		"wildcard account":  role("arn:aws:iam::*:role/a", "a", ""),
		"reserved username": role("arn:aws:iam::111122223333:role/a", "system:admin", ""),
		"federated as user": user("arn:aws:sts::111122223333:federated-user/a", "a"),
	} {
		if _, err := New("MountedFile", entries, rules.Options{}); err == nil {
			t.Errorf("%s: New succeeded, want error", name)
		}
	}
	if _, err := New("", nil, rules.Options{}); err == nil {
		t.Error("New with empty name succeeded")
	}
}
