package presign

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func presignFor(t *testing.T, region string, creds aws.CredentialsProvider, now time.Time) (string, *url.URL, time.Time) {
	t.Helper()
	cfg := aws.Config{Region: region, Credentials: creds}
	tok, exp, err := Token(context.Background(), cfg, "my-cluster", Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("Token(%q): %v", region, err)
	}
	if !strings.HasPrefix(tok, token.Prefix) {
		t.Fatalf("token lacks prefix")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, token.Prefix))
	if err != nil {
		t.Fatalf("token is not unpadded base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return tok, u, exp
}

func TestPresignShape(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	static := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	for _, c := range []struct{ region, host, scope string }{
		{"us-west-2", "sts.us-west-2.amazonaws.com", "us-west-2"},
		{"us-east-1", "sts.us-east-1.amazonaws.com", "us-east-1"},
		{"", "sts.amazonaws.com", "us-east-1"},
		{"cn-north-1", "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
		{"us-gov-west-1", "sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	} {
		t.Run("region="+c.region, func(t *testing.T) {
			tok, u, exp := presignFor(t, c.region, static, now)
			if u.Scheme != "https" || u.Host != c.host || u.Path != "/" {
				t.Fatalf("URL %s://%s%s, want https://%s/", u.Scheme, u.Host, u.Path, c.host)
			}
			q := u.Query()
			want := map[string]string{
				"Action":              "GetCallerIdentity",
				"Version":             "2011-06-15",
				"X-Amz-Algorithm":     "AWS4-HMAC-SHA256",
				"X-Amz-Credential":    testAKID + "/20300506/" + c.scope + "/sts/aws4_request",
				"X-Amz-Date":          "20300506T070809Z",
				"X-Amz-Expires":       "60",
				"X-Amz-SignedHeaders": "host;x-k8s-aws-id",
			}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if len(q) != len(want)+1 || q.Get("X-Amz-Signature") == "" {
				t.Errorf("unexpected parameter set %v", keys(q))
			}
			if !exp.Equal(now.Add(14 * time.Minute)) {
				t.Errorf("expires %v, want now+14m", exp)
			}
			checkSignature(t, u, "my-cluster", testSecret)
			v := &token.Validator{Now: func() time.Time { return now.Add(time.Minute) }}
			if c.region == "cn-north-1" {
				v.Partition = "aws-cn"
			} else if c.region == "us-gov-west-1" {
				v.Partition = "aws-us-gov"
			}
			req, err := v.Validate(tok)
			if err != nil {
				t.Fatalf("server-side Validate rejects our token: %v", err)
			}
			if req.Host != c.host || req.Region != c.scope || req.AccessKeyID != testAKID {
				t.Fatalf("Validate = %+v", req)
			}
		})
	}
}

func TestPresignSessionTokenAndExpiry(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	credExp := now.Add(5 * time.Minute)
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE01", SecretAccessKey: testSecret,
			SessionToken: "FwoGZXIvYXdzEXAMPLE+/=", CanExpire: true, Expires: credExp}, nil
	})
	_, u, exp := presignFor(t, "eu-west-1", creds, now)
	if got := u.Query().Get("X-Amz-Security-Token"); got != "FwoGZXIvYXdzEXAMPLE+/=" {
		t.Fatalf("security token %q", got)
	}
	if u.Query().Get("X-Amz-SignedHeaders") != "host;x-k8s-aws-id" {
		t.Fatalf("signed headers %q", u.Query().Get("X-Amz-SignedHeaders"))
	}
	if !exp.Equal(credExp) {
		t.Fatalf("expires %v, want the credentials' expiry %v", exp, credExp)
	}
	checkSignature(t, u, "my-cluster", testSecret)

	// Credentials that outlive the token do not extend it.
	credExp = now.Add(time.Hour)
	if _, _, exp = presignFor(t, "eu-west-1", creds, now); !exp.Equal(now.Add(TokenLifetime)) {
		t.Fatalf("expires %v, want now+14m", exp)
	}
}

// TestPresignVerifiesWithSTSDouble replays tokens the way the server does,
// against an STS double that checks SigV4 like STS: right cluster header →
// the signer's identity; another cluster's → rejected.
func TestPresignVerifiesWithSTSDouble(t *testing.T) {
	srv := ststest.Start(t)
	id := ststest.Identity{Arn: "arn:aws:sts::111122223333:assumed-role/dev/alice", Account: "111122223333", UserId: "AROAEXAMPLE:alice"}
	srv.AddKey(testAKID, testSecret, "", id)
	srv.AddKey("ASIAEXAMPLEEXAMPLE02", testSecret, "session/token+=", id)
	client := &http.Client{Transport: srv.Transport()}
	get := func(u *url.URL, cluster string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, u.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(token.ClusterIDHeader, cluster)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	now := time.Now()
	for _, c := range []struct {
		region string
		creds  aws.CredentialsProvider
	}{
		{"us-west-2", credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")},
		{"", credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")},
		{"eu-west-1", credentials.NewStaticCredentialsProvider("ASIAEXAMPLEEXAMPLE02", testSecret, "session/token+=")},
	} {
		_, u, _ := presignFor(t, c.region, c.creds, now)
		if code, body := get(u, "my-cluster"); code != http.StatusOK || !strings.Contains(body, id.Arn) {
			t.Fatalf("region %q: STS double answered %d: %.300s", c.region, code, body)
		}
		if code, _ := get(u, "other-cluster"); code != http.StatusForbidden {
			t.Fatalf("region %q: token replayed for another cluster got %d, want 403", c.region, code)
		}
	}
}

func TestPresignErrors(t *testing.T) {
	ctx := context.Background()
	static := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	if _, _, err := Token(ctx, aws.Config{Region: "us-west-2", Credentials: static}, "", Options{}); err == nil {
		t.Error("empty cluster id accepted")
	}
	if _, _, err := Token(ctx, aws.Config{Region: "us-west-2"}, "c", Options{}); err == nil {
		t.Error("missing credentials accepted")
	}
	if _, _, err := Token(ctx, aws.Config{Region: "us-west-2.evil.com", Credentials: static}, "c", Options{}); err == nil {
		t.Error("a region that is not a host label accepted")
	}
}

// checkSignature recomputes the SigV4 query signature independently of the
// SDK: the canonical request must cover exactly host and x-k8s-aws-id and the
// empty-body hash, which is what STS recomputes when the server replays the
// URL with its own cluster id.
func checkSignature(t *testing.T, u *url.URL, clusterID, secret string) {
	t.Helper()
	q := u.Query()
	var parts []string
	for _, k := range keys(q) {
		if k == "X-Amz-Signature" {
			continue
		}
		parts = append(parts, escape(k)+"="+escape(q.Get(k)))
	}
	canonical := strings.Join([]string{
		"GET", "/", strings.Join(parts, "&"),
		"host:" + u.Host + "\n" + "x-k8s-aws-id:" + clusterID + "\n",
		"host;x-k8s-aws-id",
		hexSHA(""),
	}, "\n")
	cred := strings.Split(q.Get("X-Amz-Credential"), "/")
	scope := strings.Join(cred[1:], "/")
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", q.Get("X-Amz-Date"), scope, hexSHA(canonical)}, "\n")
	key := []byte("AWS4" + secret)
	for _, p := range cred[1:] {
		key = mac(key, p)
	}
	if want := hex.EncodeToString(mac(key, toSign)); q.Get("X-Amz-Signature") != want {
		t.Fatalf("signature does not verify for cluster %q", clusterID)
	}
}

func keys(q url.Values) []string {
	var ks []string
	for k := range q {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func hexSHA(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
