package assume

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const acct = "111122223333"

func TestCheckRole(t *testing.T) {
	for _, tc := range []struct {
		name, account, role string
		ok                  bool
	}{
		{"role in its account", acct, "arn:aws:iam::" + acct + ":role/r", true},
		{"role with a path", acct, "arn:aws:iam::" + acct + ":role/team/r", true},
		{"no account to match", "", "arn:aws-cn:iam::" + acct + ":role/r", true},
		{"role in another account", acct, "arn:aws:iam::444455556666:role/r", false},
		{"short account id", "12345", "arn:aws:iam::12345:role/r", false},
		{"account id with letters", "11112222333a", "arn:aws:iam::11112222333a:role/r", false},
		{"user, not role", acct, "arn:aws:iam::" + acct + ":user/u", false},
		{"assumed-role session", acct, "arn:aws:sts::" + acct + ":assumed-role/r/s", false},
		{"not an ARN", acct, "role/r", false},
		{"empty", acct, "", false},
	} {
		err := CheckRole(tc.account, tc.role)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadConfig)) {
			t.Errorf("%s: CheckRole(%q, %q) = %v", tc.name, tc.account, tc.role, err)
		}
	}
}

func TestCheckAccountRolesReportsEveryEntryInOrder(t *testing.T) {
	errs := CheckAccountRoles(map[string]string{
		"444455556666": "arn:aws:iam::" + acct + ":role/r",
		acct:           "arn:aws:iam::" + acct + ":role/r",
		"12":           "nope",
	})
	if len(errs) != 2 || !strings.HasPrefix(errs[0].Error(), "[12]: ") || !strings.HasPrefix(errs[1].Error(), "[444455556666]: ") {
		t.Fatalf("errors = %v; want [12] then [444455556666]", errs)
	}
	if !strings.Contains(errs[1].Error(), "listed for account 444455556666 but is in account "+acct) {
		t.Errorf("error %q does not say which account the role is in", errs[1])
	}
}

func TestConfigs(t *testing.T) {
	roles := map[string]string{acct: "arn:aws:iam::" + acct + ":role/r"}
	o := Options{SessionName: "s", ExternalID: "x"}
	cfg := aws.Config{Region: "us-east-1"}
	got, err := Configs(cfg, roles, o)
	if err != nil || len(got) != 1 || got[acct].Credentials == nil || got[acct].Credentials == cfg.Credentials {
		t.Fatalf("Configs = %v, %v; want one config with credentials of its own", got, err)
	}
	if _, ok := got[acct].Credentials.(*aws.CredentialsCache); !ok {
		t.Errorf("credentials are %T, want *aws.CredentialsCache", got[acct].Credentials)
	}
	for name, tc := range map[string]struct {
		cfg   aws.Config
		roles map[string]string
		o     Options
	}{
		"bad role":        {cfg, map[string]string{acct: "arn:aws:iam::444455556666:role/r"}, o},
		"no region":       {aws.Config{}, roles, o},
		"no session name": {cfg, roles, Options{}},
	} {
		if _, err := Configs(tc.cfg, tc.roles, tc.o); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: err = %v, want ErrBadConfig", name, err)
		}
	}
	if got, err := Configs(aws.Config{}, nil, Options{}); err != nil || len(got) != 0 {
		t.Errorf("no roles: %v, %v; want nothing to build and no error", got, err)
	}
}
