package sts

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
)

// TestAWSCLITokenEndToEnd takes a token from `aws eks get-token` (botocore's
// signer), validates it and verifies it against the double; the same token
// presented for another cluster must get STS's 403. Skipped without aws-cli.
func TestAWSCLITokenEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws-cli not installed; this test needs `aws eks get-token`")
	}
	cmd := exec.Command("aws", "eks", "get-token", "--cluster-name", "test")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+testAKID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_DEFAULT_REGION=us-west-2", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws eks get-token: %v", err)
	}
	var ec struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := json.Unmarshal(out, &ec); err != nil {
		t.Fatal(err)
	}
	req, err := (&token.Validator{}).Validate(ec.Status.Token)
	if err != nil {
		t.Fatal(err)
	}
	d := ststest.Start(t, ststest.WithClock(time.Now))
	d.AddKey(testAKID, testSecret, "", ststest.Identity{Arn: "arn:aws:iam::111122223333:user/cli", Account: "111122223333", UserId: "AIDACLI"})
	c := New(Options{Transport: d.Transport()})
	id, err := c.Verify(context.Background(), req, "test")
	if err != nil || id.ARN != "arn:aws:iam::111122223333:user/cli" {
		t.Fatalf("aws-cli token: %+v %v", id, err)
	}
	if _, err := c.Verify(context.Background(), req, "other-cluster"); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("aws-cli token for another cluster: %v", err)
	}
}
