// Package tokenflags defines the flags of "iamgate token" once, for both
// binaries: the lean front (cmd/iamgate), which answers cache hits itself, and
// the core (cobra), which does the real work. Both must parse a command line
// the same way and derive the same cache key from it, or the front would miss
// (slow) or, worse, serve a token minted for another identity.
//
// This package must stay lean: stdlib and pflag only. cmd/iamgate has a test
// that fails if heavier dependencies creep in.
package tokenflags

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/spf13/pflag"
)

// ClusterIDEnv is the environment variable aws-iam-authenticator reads when
// -i is not given; kubeconfigs written for it keep working.
const ClusterIDEnv = "KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID"

// DefaultRoleEnv is the variable aws-iam-authenticator reads for --role when
// the flag is not given (viper.BindEnv("role", "DEFAULT_ROLE")).
const DefaultRoleEnv = "DEFAULT_ROLE"

// Options holds the parsed token flags.
type Options struct {
	ClusterID          string
	Role               string
	ExternalID         string
	SessionName        string
	ForwardSessionName bool
	Region             string
	Profile            string
	TokenOnly          bool
	// Cache is accepted for aws-iam-authenticator compatibility; caching is
	// on by default.
	Cache   bool
	NoCache bool
	// Debug explains on stderr how the token was made; output only, so it
	// is not part of any cache key.
	Debug bool
}

// AddFlags registers the token flags on fs, binding them to o. The core adds
// them to its cobra command's flag set; the front to a bare pflag.FlagSet.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.ClusterID, "cluster-id", "i", "",
		"cluster `ID` the token is for, as configured on the server (env "+ClusterIDEnv+")")
	fs.StringVarP(&o.Role, "role", "r", "", "IAM role `ARN` to assume before signing the token")
	fs.StringVarP(&o.ExternalID, "external-id", "e", "", "external `ID` to pass when assuming --role")
	fs.StringVarP(&o.SessionName, "session-name", "s", "", "session `name` to use when assuming --role")
	fs.BoolVar(&o.ForwardSessionName, "forward-session-name", false,
		"assume --role with the session name of the current (federated) session")
	fs.StringVar(&o.Region, "region", "", "AWS `region` whose STS endpoint the token is signed for")
	fs.StringVar(&o.Profile, "profile", "", "AWS shared config `profile` to take credentials from (default $AWS_PROFILE)")
	fs.BoolVar(&o.TokenOnly, "token-only", false, "print only the token, not an ExecCredential")
	fs.BoolVar(&o.Cache, "cache", false, "accepted for aws-iam-authenticator compatibility; caching is on by default")
	fs.BoolVar(&o.NoCache, "no-cache", false, "neither read nor write the token and credential caches")
	fs.BoolVar(&o.Debug, "debug", false, "explain on stderr where credentials, region, STS host and cache entry came from, and the token's audit hash (never secrets)")
}

// ApplyEnv fills what the environment may supply when a flag did not.
func (o *Options) ApplyEnv(getenv func(string) string) {
	if o.ClusterID == "" {
		o.ClusterID = getenv(ClusterIDEnv)
	}
	if o.Role == "" {
		o.Role = getenv(DefaultRoleEnv)
	}
}

// Validate reports command lines the core would reject.
func (o *Options) Validate() error {
	if o.ClusterID == "" {
		return errors.New("cluster id not specified: pass -i CLUSTER_ID or set " + ClusterIDEnv)
	}
	if o.ForwardSessionName && o.SessionName != "" {
		return errors.New("--forward-session-name and --session-name cannot be used together")
	}
	return nil
}

// IdentityEnv lists the environment variables that select which AWS identity
// signs a token (or where its credentials come from). They are part of every
// cache key so that switching profile, keys or config files never serves a
// token or credentials cached for a different identity.
var IdentityEnv = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	// The SDK takes static keys from AWS_ACCESS_KEY when AWS_ACCESS_KEY_ID
	// is unset.
	"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY",
	"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	// The default ~/.aws/config, ~/.aws/credentials and SSO token cache
	// are found through the home directory (USERPROFILE on Windows), which
	// need not decide the cache directory ($IAMGATE_CACHE_DIR).
	"HOME", "USERPROFILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
}

// RegionEnv lists the variables that pick the region, hence the STS host a
// token is signed for. They key tokens, not credentials.
var RegionEnv = []string{"AWS_REGION", "AWS_DEFAULT_REGION"}

// TokenKey is the cache key of the token this command line would mint: a
// SHA-256 over every flag and environment variable that changes the signer or
// the signed request. Output-only flags (--token-only) and cache switches are
// left out. Call ApplyEnv first.
func (o *Options) TokenKey(getenv func(string) string) string {
	return o.key("token/v1", true, getenv)
}

// CredentialsKey is the cache key of the AWS credentials this command line
// signs with. The cluster id and region are left out: assumed-role
// credentials are the same whichever cluster they sign for, so an MFA code
// entered for one cluster serves them all.
func (o *Options) CredentialsKey(getenv func(string) string) string {
	return o.key("creds/v1", false, getenv)
}

// BaseCredentialsKey keys the credentials a --role is assumed with: the same
// as CredentialsKey with the role flags cleared.
func (o *Options) BaseCredentialsKey(getenv func(string) string) string {
	base := *o
	base.Role, base.ExternalID, base.SessionName, base.ForwardSessionName = "", "", "", false
	return base.key("creds/v1", false, getenv)
}

func (o *Options) key(kind string, withCluster bool, getenv func(string) string) string {
	h := sha256.New()
	field := func(name, value string) {
		// Length-prefixed, so no two field lists hash alike.
		h.Write([]byte(name))
		h.Write([]byte{0})
		var n [8]byte
		for i, l := 0, len(value); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l)
		}
		h.Write(n[:])
		h.Write([]byte(value))
	}
	field("kind", kind)
	if withCluster {
		field("cluster-id", o.ClusterID)
		field("region", o.Region)
		for _, name := range RegionEnv {
			field("env:"+name, getenv(name))
		}
	}
	field("role", o.Role)
	field("external-id", o.ExternalID)
	field("session-name", o.SessionName)
	if o.ForwardSessionName {
		field("forward-session-name", "true")
	}
	field("profile", o.Profile)
	for _, name := range IdentityEnv {
		field("env:"+name, getenv(name))
	}
	return hex.EncodeToString(h.Sum(nil))
}
