package awscreds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// ErrNoCredentials means the whole default chain came up empty.
var ErrNoCredentials = errors.New("no AWS credentials found")

const defaultIMDSTimeout = 3 * time.Second

// boundedIMDS is the EC2 instance metadata client with a hard per-call
// deadline and a single retry. Instance metadata is the chain's last resort;
// off EC2 it is either unreachable (fails in milliseconds) or, behind some
// networks and proxies, accepts and never answers. Unbounded, that stalled
// aws-iam-authenticator for 20 s on every kubectl call (#347). On EC2 it
// answers in milliseconds, so the bound costs nothing there.
type boundedIMDS struct {
	client  *imds.Client
	timeout time.Duration
}

func newBoundedIMDS(timeout time.Duration) *boundedIMDS {
	if timeout <= 0 {
		timeout = defaultIMDSTimeout
	}
	opts := imds.Options{Retryer: retry.AddWithMaxAttempts(retry.NewStandard(), 2)}
	// imds.New reads AWS_EC2_METADATA_SERVICE_ENDPOINT and
	// AWS_EC2_METADATA_DISABLED itself; the endpoint mode it only takes from
	// the config we bypass here.
	if strings.EqualFold(os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"), "ipv6") {
		opts.EndpointMode = imds.EndpointModeStateIPv6
	}
	return &boundedIMDS{client: imds.New(opts), timeout: timeout}
}

func (b *boundedIMDS) GetMetadata(ctx context.Context, in *imds.GetMetadataInput, optFns ...func(*imds.Options)) (*imds.GetMetadataOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	out, err := b.client.GetMetadata(ctx, in, optFns...)
	if err == nil {
		// The body streams under ctx, which ends when we return: read it
		// now (metadata documents are small).
		var body []byte
		body, err = io.ReadAll(io.LimitReader(out.Content, 1<<20))
		out.Content.Close()
		out.Content = io.NopCloser(bytes.NewReader(body))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: none in the environment, shared config/credentials files, SSO, web identity "+
			"or container settings, and EC2 instance metadata gave none either (%v)", ErrNoCredentials, err)
	}
	return out, nil
}
