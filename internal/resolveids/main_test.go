package resolveids

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

const acct = moto.AccountID

// fixture is a set of IAM principals created in moto for one test, with
// names unique to the test (moto is shared by the package's tests).
type fixture struct {
	t      *testing.T
	iam    *iam.Client
	lookup *Lookup
	suffix string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sum := sha256.Sum256([]byte(t.Name()))
	f := &fixture{t: t, iam: moto.IAM(t), suffix: hex.EncodeToString(sum[:4])}
	l, err := NewLookupForCaller(context.Background(), f.iam, moto.STS(t))
	if err != nil {
		t.Fatal(err)
	}
	if l.Account() != acct || l.Partition() != "aws" {
		t.Fatalf("lookup for %s:%s, want aws:%s", l.Partition(), l.Account(), acct)
	}
	f.lookup = l
	return f
}

// name makes a principal name unique to the test.
func (f *fixture) name(base string) string { return base + "-" + f.suffix }

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`

// role creates a role and returns its unique ID.
func (f *fixture) role(name, path string) string {
	f.t.Helper()
	out, err := f.iam.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.Role.RoleId)
}

func (f *fixture) deleteRole(name string) {
	f.t.Helper()
	if _, err := f.iam.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
		f.t.Fatal(err)
	}
}

// user creates a user and returns its unique ID.
func (f *fixture) user(name, path string) string {
	f.t.Helper()
	out, err := f.iam.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.User.UserId)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
