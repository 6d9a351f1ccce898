package tokenflags

import (
	"testing"

	"github.com/spf13/pflag"
)

func parse(t *testing.T, args ...string) Options {
	t.Helper()
	var o Options
	fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestFlagsMatchAIA(t *testing.T) {
	o := parse(t, "-i", "c", "-r", "arn:aws:iam::1:role/r", "-e", "ext", "-s", "sess", "--region", "eu-west-1",
		"--token-only", "--cache", "--profile", "p", "--no-cache")
	want := Options{ClusterID: "c", Role: "arn:aws:iam::1:role/r", ExternalID: "ext", SessionName: "sess",
		Region: "eu-west-1", TokenOnly: true, Cache: true, Profile: "p", NoCache: true}
	if o != want {
		t.Fatalf("parsed %+v", o)
	}
	if o := parse(t, "--forward-session-name", "--cluster-id=x"); !o.ForwardSessionName || o.ClusterID != "x" {
		t.Fatalf("parsed %+v", o)
	}
}

func TestValidateAndEnv(t *testing.T) {
	o := parse(t)
	o.ApplyEnv(func(k string) string { return map[string]string{ClusterIDEnv: "env-cluster"}[k] })
	if o.ClusterID != "env-cluster" || o.Validate() != nil {
		t.Fatalf("cluster id from env: %+v", o)
	}
	o = parse(t, "-i", "flag")
	o.ApplyEnv(func(string) string { return "env" })
	if o.ClusterID != "flag" {
		t.Fatal("env overrode -i")
	}
	o = parse(t, "-i", "c")
	o.ApplyEnv(func(k string) string {
		return map[string]string{DefaultRoleEnv: "arn:aws:iam::111122223333:role/env"}[k]
	})
	if o.Role != "arn:aws:iam::111122223333:role/env" {
		t.Fatalf("--role not taken from $%s: %+v", DefaultRoleEnv, o)
	}
	o = parse(t, "-i", "c", "-r", "arn:aws:iam::111122223333:role/flag")
	o.ApplyEnv(func(string) string { return "arn:aws:iam::111122223333:role/env" })
	if o.Role != "arn:aws:iam::111122223333:role/flag" {
		t.Fatal("$DEFAULT_ROLE overrode -r")
	}
	if err := (&Options{}).Validate(); err == nil {
		t.Fatal("empty cluster id accepted")
	}
	if err := (&Options{ClusterID: "c", Role: "r", SessionName: "s", ForwardSessionName: true}).Validate(); err == nil {
		t.Fatal("--session-name with --forward-session-name accepted")
	}
}

func TestKeys(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	base := Options{ClusterID: "c", Region: "us-west-2", Profile: "p"}
	k0 := base.TokenKey(get)
	if len(k0) != 64 || base.TokenKey(get) != k0 {
		t.Fatal("key not a stable sha256 hex")
	}
	// Output and cache switches do not change the key.
	same := base
	same.TokenOnly, same.Cache, same.NoCache = true, true, true
	if same.TokenKey(get) != k0 {
		t.Fatal("output-only flags changed the key")
	}
	for name, change := range map[string]func(o *Options){
		"cluster": func(o *Options) { o.ClusterID = "d" },
		"region":  func(o *Options) { o.Region = "" },
		"role":    func(o *Options) { o.Role = "r" },
		"ext":     func(o *Options) { o.ExternalID = "e" },
		"session": func(o *Options) { o.SessionName = "s" },
		"forward": func(o *Options) { o.ForwardSessionName = true },
		"profile": func(o *Options) { o.Profile = "" },
	} {
		o := base
		change(&o)
		if o.TokenKey(get) == k0 {
			t.Errorf("%s does not change the token key", name)
		}
	}
	for _, v := range append(append([]string{}, IdentityEnv...), RegionEnv...) {
		env[v] = "x"
		if base.TokenKey(get) == k0 {
			t.Errorf("%s does not change the token key", v)
		}
		delete(env, v)
	}
	// Credentials are shared across clusters and regions, not identities.
	other := base
	other.ClusterID, other.Region = "other", "eu-west-1"
	if other.CredentialsKey(get) != base.CredentialsKey(get) {
		t.Error("credentials key depends on the cluster or region")
	}
	withRole := base
	withRole.Role = "arn:aws:iam::1:role/r"
	if withRole.CredentialsKey(get) == base.CredentialsKey(get) || withRole.BaseCredentialsKey(get) != base.CredentialsKey(get) {
		t.Error("role keys wrong")
	}
	// Field boundaries are unambiguous.
	a := Options{ClusterID: "ab", Role: "c"}
	b := Options{ClusterID: "a", Role: "bc"}
	if a.TokenKey(get) == b.TokenKey(get) {
		t.Error("field values run together")
	}
}

// TestKeysCoverSDKIdentitySources: variables the SDK reads that pick the
// identity without being named AWS_ACCESS_KEY_ID/AWS_PROFILE: the alternate
// key name, the home directory the default ~/.aws files (and SSO token cache)
// are found under, and the container credentials' authorization token.
func TestKeysCoverSDKIdentitySources(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY", "HOME", "USERPROFILE",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"} {
		base := Options{ClusterID: "c", Role: "r"}
		none := func(string) string { return "" }
		set := func(k string) string {
			if k == v {
				return "x"
			}
			return ""
		}
		if base.TokenKey(none) == base.TokenKey(set) || base.CredentialsKey(none) == base.CredentialsKey(set) ||
			base.BaseCredentialsKey(none) == base.BaseCredentialsKey(set) {
			t.Errorf("%s does not change every cache key", v)
		}
	}
}
