package awscreds

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// MinSigningLife is how long credentials must stay valid to sign with. A
// token signed with credentials that expire sooner stops working almost at
// once, and kubectl then asks again in a tight loop; aws-cli refuses them
// too.
const MinSigningLife = time.Minute

// ErrExpired is wrapped by the error for credentials too close to expiry.
var ErrExpired = errors.New("credentials expired")

// Retrieve resolves cfg's credentials once, with one-line errors, and
// refuses credentials that expire within MinSigningLife. It returns a
// provider that hands out exactly those credentials, so that signing later
// cannot fetch different ones.
func (o *Options) Retrieve(ctx context.Context, cfg aws.Config) (aws.Credentials, aws.CredentialsProvider, error) {
	if cfg.Credentials == nil {
		return aws.Credentials{}, nil, o.explain(ErrNoCredentials)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, nil, o.explain(fmt.Errorf("get AWS credentials: %w", err))
	}
	if now := o.now(); creds.CanExpire && creds.Expires.Sub(now) < MinSigningLife {
		state := "expired at"
		if creds.Expires.After(now) {
			state = "expire at"
		}
		return aws.Credentials{}, nil, &userError{err: ErrExpired, msg: fmt.Sprintf(
			"credentials from %s %s %s (iamgate needs at least a minute left to sign a token); %s",
			o.Describe(creds.Source), state, creds.Expires.UTC().Format(time.RFC3339), o.expiredHint(creds.Source))}
	}
	fixed := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })
	return creds, fixed, nil
}

// Describe names a credential source (aws.Credentials.Source) for a person.
func (o *Options) Describe(source string) string {
	name, _ := o.ProfileName()
	p := fmt.Sprintf("profile %q", name)
	switch {
	case source == "ProcessProvider":
		return "credential_process of " + p
	case source == "SSOProvider":
		return "SSO " + p
	case source == "AssumeRoleProvider" && o.Role != "":
		return "AssumeRole of " + o.Role + " (--role)"
	case source == "AssumeRoleProvider":
		return "role_arn of " + p
	case source == "WebIdentityCredentials":
		return "web identity (AWS_WEB_IDENTITY_TOKEN_FILE or " + p + ")"
	case source == "EnvConfigCredentials":
		return "environment variables (AWS_ACCESS_KEY_ID)"
	case strings.HasPrefix(source, "SharedConfigCredentials: "):
		return "keys of " + p + " in " + o.short(strings.TrimPrefix(source, "SharedConfigCredentials: "))
	case source == "EC2RoleProvider":
		return "EC2 instance metadata"
	case source == "CredentialsEndpointProvider":
		return "container credentials endpoint"
	case source == "LoginProvider":
		return "aws login session of " + p
	case source == diskSource:
		return "iamgate's credential cache"
	case source == "":
		return "an unnamed source"
	}
	return source
}

func (o *Options) expiredHint(source string) string {
	name, _ := o.ProfileName()
	switch source {
	case "ProcessProvider":
		return "the credential_process command returned stale credentials: fix it to return fresh ones"
	case "SSOProvider":
		return fmt.Sprintf("run \"aws sso login --profile %s\"", name)
	case "EnvConfigCredentials":
		return "refresh AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
	}
	return "refresh them, then run \"iamgate cache clear\""
}

// listProfiles reads the profile names of a shared config file ("[default]",
// "[profile NAME]") or credentials file ("[NAME]"), in file order. An
// unreadable file has none.
func listProfiles(path string, configFile bool) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	var names []string
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
			continue
		}
		section := strings.TrimSpace(line[1 : len(line)-1])
		if configFile && section != "default" {
			rest, isProfile := strings.CutPrefix(section, "profile ")
			if !isProfile {
				continue // sso-session, services, ...
			}
			section = strings.TrimSpace(rest)
		}
		if section != "" && !contains(names, section) {
			names = append(names, section)
		}
	}
	return names
}
