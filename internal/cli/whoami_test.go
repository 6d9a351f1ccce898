package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

func whoamiJSON(t *testing.T, args ...string) whoamiReport {
	t.Helper()
	code, out, errs := runCLI(t, append([]string{"whoami", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("whoami %v: exit %d: %s", args, code, errs)
	}
	var r whoamiReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

// whoami reports what STS answers for the chain's credentials (a
// header-signed GetCallerIdentity, which moto answers with the caller) and
// the token it would sign.
func TestWhoamiStaticKeysThroughMoto(t *testing.T) {
	newTokenEnv(t)
	moto.Env(t)
	// moto answers its own static test key with an ARN no STS reports
	// (sts::...:user/moto); a real user's key gets that user's ARN.
	ctx := context.Background()
	name := "whoami-bob"
	if _, err := moto.IAM(t).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String("/team/")}); err != nil &&
		!strings.Contains(err.Error(), "EntityAlreadyExists") {
		t.Fatal(err)
	}
	key, err := moto.IAM(t).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", aws.ToString(key.AccessKey.AccessKeyId))
	t.Setenv("AWS_SECRET_ACCESS_KEY", aws.ToString(key.AccessKey.SecretAccessKey))
	r := whoamiJSON(t, "-i", "prod")
	wantARN := "arn:aws:iam::" + moto.AccountID + ":user/team/" + name
	if r.Caller.ARN != wantARN || r.Caller.Account != moto.AccountID || r.CanonicalARN != wantARN ||
		r.Entry != "mapUsers: - userarn: "+wantARN {
		t.Errorf("caller %+v canonical %s entry %s, want %s", r.Caller, r.CanonicalARN, r.Entry, wantARN)
	}
	if r.Credentials.Source != "EnvConfigCredentials" || r.Credentials.AccessKeyID != aws.ToString(key.AccessKey.AccessKeyId) || r.Credentials.Expires != nil {
		t.Errorf("credentials %+v", r.Credentials)
	}
	if r.Token.ClusterID != "prod" || r.Token.STSHost != "sts."+moto.Region+".amazonaws.com" || r.Token.Expires == nil ||
		r.Token.CredentialsEndpoint == "" {
		t.Errorf("token %+v", r.Token)
	}
	if r.Cluster != nil {
		t.Errorf("no kubeconfig, yet the cluster was asked: %+v", r.Cluster)
	}
}

// With --role the identity is the assumed role's session, and the entry
// to write is the role's ARN, not the session's.
func TestWhoamiRoleThroughMoto(t *testing.T) {
	newTokenEnv(t)
	moto.Env(t)
	role, err := moto.IAM(t).CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String("whoami-admin"), Path: aws.String("/platform/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::" + moto.AccountID + ":role/platform/whoami-admin"
	if role != nil && aws.ToString(role.Role.Arn) != roleARN {
		t.Fatalf("moto made %s", aws.ToString(role.Role.Arn))
	}
	r := whoamiJSON(t, "-i", "prod", "--role", roleARN, "--session-name", "alice")
	if r.Caller.ARN != "arn:aws:sts::"+moto.AccountID+":assumed-role/whoami-admin/alice" {
		t.Errorf("caller %+v", r.Caller)
	}
	if r.CanonicalARN != "arn:aws:iam::"+moto.AccountID+":role/whoami-admin" ||
		r.Entry != "mapRoles: - rolearn: arn:aws:iam::"+moto.AccountID+":role/whoami-admin" {
		t.Errorf("canonical %s, entry %s", r.CanonicalARN, r.Entry)
	}
	if r.Credentials.Source != "AssumeRoleProvider" || r.Credentials.Expires == nil || !strings.Contains(r.Credentials.Description, "--role") {
		t.Errorf("credentials %+v", r.Credentials)
	}
	if !strings.HasPrefix(r.Credentials.AccessKeyID, "ASIA") {
		t.Errorf("access key %s: want the session's temporary key", r.Credentials.AccessKeyID)
	}
}

func TestWhoamiBadInput(t *testing.T) {
	newTokenEnv(t)
	moto.SetEnv(t, moto.ClosedURL(t))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"whoami", "-i", "prod"}, "GetCallerIdentity"},
		{[]string{"whoami", "-i", "prod", "-o", "yaml"}, "unsupported output format"},
		{[]string{"whoami", "--kubeconfig", "/nonexistent"}, "cluster id not specified"},
	} {
		code, out, errs := runCLI(t, tc.args...)
		if code == 0 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tc.args, code, out, errs, tc.want)
		}
	}
}
