// Package presign mints iamgate tokens on the client: it signs an STS
// GetCallerIdentity URL with the caller's AWS credentials. It is separate from
// package token (the format and the server's validator) because it links the
// AWS SDK, which the lean front binary and the server's hot path must not pay
// for.
package presign

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamgate/iamgate/internal/token"
)

const (
	// ExpiresSeconds is the X-Amz-Expires the client signs. STS
	// ignores it for GetCallerIdentity (it honours the URL for 15 minutes
	// regardless); 60 matches aws-iam-authenticator and aws-cli byte for byte.
	ExpiresSeconds = 60
	// TokenLifetime is how long kubectl is told a fresh token is good for:
	// one minute short of STS's 15, for clock skew and time in flight.
	TokenLifetime = 14 * time.Minute

	stsAPIVersion = "2011-06-15"
	// emptyPayloadHash is the SHA-256 of the empty body of a GET.
	emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Options tunes Token; the zero value is production.
type Options struct {
	// Now is the signing clock (default time.Now).
	Now func() time.Time
}

// ErrNoCredentials is returned when cfg carries no credentials provider.
var ErrNoCredentials = errors.New("no AWS credentials configured")

// Token mints a token for clusterID: token.Prefix plus the unpadded base64url of
// a presigned STS GetCallerIdentity GET URL whose only signed headers are
// host and x-k8s-aws-id. It returns the token and the time kubectl should
// stop using it: TokenLifetime after signing, or earlier if the signing
// credentials expire first (STS rejects a URL signed with expired
// credentials).
//
// The URL always names the real regional STS host for cfg.Region (the global
// sts.amazonaws.com, signed for us-east-1, when no region is set). It never
// uses a custom STS endpoint from the config: the server only accepts real
// STS hosts, and a token pointing elsewhere would be rejected anyway.
//
// Token signs with aws/signer/v4 directly rather than the STS client's
// presigner, which adds an amz-sdk-request header to SignedHeaders that
// servers cannot reproduce (eksctl#7486).
func Token(ctx context.Context, cfg aws.Config, clusterID string, opts Options) (string, time.Time, error) {
	if clusterID == "" {
		return "", time.Time{}, errors.New("presign: empty cluster id")
	}
	host, signingRegion, err := STSHost(ctx, cfg.Region)
	if err != nil {
		return "", time.Time{}, err
	}
	if cfg.Credentials == nil {
		return "", time.Time{}, ErrNoCredentials
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get AWS credentials: %w", err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	signedAt := now().UTC()

	q := url.Values{}
	q.Set("Action", "GetCallerIdentity")
	q.Set("Version", stsAPIVersion)
	q.Set("X-Amz-Expires", fmt.Sprint(ExpiresSeconds))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/?"+q.Encode(), nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("presign: %w", err)
	}
	req.Header.Set(token.ClusterIDHeader, clusterID)

	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true })
	signed, signedHeaders, err := signer.PresignHTTP(ctx, creds, req, emptyPayloadHash, "sts", signingRegion, signedAt)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("presign: %w", err)
	}
	// Belt and braces: anything but host and the cluster header in
	// SignedHeaders makes every token unverifiable.
	if len(signedHeaders) != 2 || signedHeaders.Get("Host") == "" || signedHeaders.Get(token.ClusterIDHeader) == "" {
		return "", time.Time{}, fmt.Errorf("presign: unexpected signed headers %v", headerNames(signedHeaders))
	}

	expires := signedAt.Add(TokenLifetime)
	if creds.CanExpire && creds.Expires.Before(expires) {
		expires = creds.Expires
	}
	return token.Prefix + base64.RawURLEncoding.EncodeToString([]byte(signed)), expires, nil
}

// STSHost returns the real STS host name and the SigV4 signing region for
// region, from the SDK's own endpoint rules (so new regions and partitions
// need no change here). An empty region means the global endpoint.
func STSHost(ctx context.Context, region string) (host, signingRegion string, err error) {
	if region != "" && !regionSyntaxOK(region) {
		return "", "", fmt.Errorf("find STS endpoint: %q is not an AWS region name", region)
	}
	lookup := region
	if lookup == "" {
		lookup = "aws-global"
	}
	ep, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sts.EndpointParameters{
		Region:       aws.String(lookup),
		UseDualStack: aws.Bool(false),
		UseFIPS:      aws.Bool(false),
	})
	if err != nil {
		return "", "", fmt.Errorf("find STS endpoint for region %q: %w", region, err)
	}
	if ep.URI.Scheme != "https" || ep.URI.Host == "" || ep.URI.Port() != "" || (ep.URI.Path != "" && ep.URI.Path != "/") {
		return "", "", fmt.Errorf("find STS endpoint for region %q: unexpected endpoint %q", region, ep.URI.String())
	}
	signingRegion = region
	opts, _ := smithyauth.GetAuthOptions(&ep.Properties)
	for _, opt := range opts {
		if r, ok := smithyhttp.GetSigV4SigningRegion(&opt.SignerProperties); ok && r != "" {
			signingRegion = r
		}
	}
	if signingRegion == "" {
		signingRegion = "us-east-1"
	}
	return ep.URI.Host, signingRegion, nil
}

// regionSyntaxOK accepts lowercase dash-separated labels ("us-west-2"), so a
// region can never add a dot, port or path to the STS host.
func regionSyntaxOK(r string) bool {
	if len(r) > 63 || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func headerNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	return names
}
