package awscreds

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// userError is an error whose text is already the one line a user should
// read; explain passes it through instead of digging for a cause.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

// ProfileName is the shared config profile the SDK uses, and what chose it.
func (o *Options) ProfileName() (name, from string) {
	switch {
	case o.Profile != "":
		return o.Profile, "--profile"
	case o.getenv("AWS_PROFILE") != "":
		return o.getenv("AWS_PROFILE"), "AWS_PROFILE"
	case o.getenv("AWS_DEFAULT_PROFILE") != "":
		return o.getenv("AWS_DEFAULT_PROFILE"), "AWS_DEFAULT_PROFILE"
	}
	return "default", ""
}

func (o *Options) home() string {
	if h := o.getenv("HOME"); h != "" {
		return h
	}
	return o.getenv("USERPROFILE")
}

// configFiles are the shared config and credentials files, as the SDK finds
// them.
func (o *Options) configFiles() (cfgFile, credFile string) {
	cfgFile, credFile = o.getenv("AWS_CONFIG_FILE"), o.getenv("AWS_SHARED_CREDENTIALS_FILE")
	if cfgFile == "" {
		cfgFile = filepath.Join(o.home(), ".aws", "config")
	}
	if credFile == "" {
		credFile = filepath.Join(o.home(), ".aws", "credentials")
	}
	return cfgFile, credFile
}

// short writes a path under the home directory as ~/..., as users know it.
func (o *Options) short(path string) string {
	if h := o.home(); h != "" {
		if rel, err := filepath.Rel(h, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(filepath.Join("~", rel))
		}
	}
	return path
}

// explain turns an SDK credential error into one line: what was tried, the
// root cause, and what to do. The original stays reachable with errors.Is.
func (o *Options) explain(err error) error {
	var ue *userError
	if err == nil || errors.As(err, &ue) {
		return err
	}
	name, from := o.ProfileName()
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return &userError{msg: o.profileNotFound(missing.Profile, from), err: err}
	}
	if errors.Is(err, ErrNoCredentials) {
		cfgFile, credFile := o.configFiles()
		imds := "EC2 instance metadata"
		if strings.EqualFold(o.getenv("AWS_EC2_METADATA_DISABLED"), "true") {
			imds += " (disabled by AWS_EC2_METADATA_DISABLED)"
		}
		return &userError{err: err, msg: fmt.Sprintf("no AWS credentials found; tried environment variables, profile %q "+
			"in %s and %s, web identity, container credentials and %s; set AWS_PROFILE (or --profile) to a profile "+
			"that has credentials, run \"aws configure\", or \"aws sso login --profile NAME\" for SSO",
			name, o.short(cfgFile), o.short(credFile), imds)}
	}
	what, hint := o.profileKind(name)
	cause, network := rootCause(err)
	var tokenErr *ssocreds.InvalidTokenError
	switch {
	case errors.As(err, &tokenErr) || strings.Contains(err.Error(), "SSO token"):
		hint = fmt.Sprintf("run \"aws sso login --profile %s\"", name)
	case network:
		hint = "check the network and the endpoint settings (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's endpoint_url)"
	}
	return &userError{err: err, msg: fmt.Sprintf("get AWS credentials from %s: %s; %s", what, cause, hint)}
}

// profileKind names where profile's credentials come from, and the usual fix.
func (o *Options) profileKind(name string) (what, hint string) {
	cfgFile, credFile := o.configFiles()
	sc, err := config.LoadSharedConfigProfile(context.Background(), name, func(lo *config.LoadSharedConfigOptions) {
		lo.ConfigFiles, lo.CredentialsFiles = []string{cfgFile}, []string{credFile}
	})
	p := fmt.Sprintf("profile %q", name)
	switch {
	case err != nil:
		return "the default chain", "check the AWS environment variables and " + o.short(cfgFile)
	case sc.SSOSessionName != "" || sc.SSOStartURL != "":
		return "SSO " + p, fmt.Sprintf("run \"aws sso login --profile %s\"", name)
	case sc.RoleARN != "":
		return fmt.Sprintf("role_arn %s of %s", sc.RoleARN, p), "check the role's trust policy and the source credentials (source_profile " + sc.SourceProfileName + sc.CredentialSource + ")"
	case sc.CredentialProcess != "":
		return "credential_process of " + p, "run the command by hand to see its error"
	case sc.WebIdentityTokenFile != "":
		return "web_identity_token_file of " + p, "check the token file"
	case sc.Credentials.AccessKeyID != "":
		return "the keys of " + p, "check them with \"aws sts get-caller-identity --profile " + name + "\""
	}
	return p, "add credentials to it (\"aws configure --profile " + name + "\")"
}

// profileNotFound lists the profiles that do exist, so a typo is obvious.
func (o *Options) profileNotFound(name, from string) string {
	cfgFile, credFile := o.configFiles()
	var files, names []string
	for _, f := range []struct {
		path   string
		prefix bool
	}{{cfgFile, true}, {credFile, false}} {
		found := listProfiles(f.path, f.prefix)
		if len(found) == 0 {
			continue
		}
		files = append(files, o.short(f.path))
		for _, n := range found {
			if !contains(names, n) {
				names = append(names, n)
			}
		}
	}
	where := o.short(cfgFile)
	if len(files) > 0 {
		where = strings.Join(files, " or ")
	}
	there := "none"
	if len(names) > 0 {
		there = strings.Join(names, ", ")
	}
	msg := fmt.Sprintf("profile %q not found in %s (profiles there: %s)", name, where, there)
	if from != "" && from != "--profile" {
		msg += "; " + from + " names it"
	}
	return msg + "; pick one of those, or create it with \"aws configure --profile " + name + "\""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rootCause is the part of an SDK error chain a person can act on: the
// service's own error code and message, or the request that could not be
// sent (network), without the SDK's wrappers.
func rootCause(err error) (cause string, network bool) {
	var api smithy.APIError
	var op *smithy.OperationError
	hasOp := errors.As(err, &op)
	if errors.As(err, &api) {
		s := api.ErrorCode() + ": " + api.ErrorMessage()
		if hasOp {
			s = op.Service() + " " + op.Operation() + " refused: " + s
		}
		return oneLine(s), false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		s := "cannot reach " + ue.URL + ": " + innermost(ue.Err).Error()
		if hasOp {
			s = op.Service() + " " + op.Operation() + ": " + s
		}
		return oneLine(s), true
	}
	return oneLine(innermost(err).Error()), false
}

// innermost follows single-error wrapping to the end, stopping at a file
// error so that the file's name stays in the message.
func innermost(err error) error {
	for {
		var pe *fs.PathError
		if errors.As(err, &pe) && err == error(pe) {
			return err
		}
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
