package kubeconfig

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// testCAPEM is a freshly made self-signed certificate.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// fakeEKS answers DescribeCluster with the given status and CA, as EKS's
// REST-JSON protocol does, or a ResourceNotFoundException for any other name.
func fakeEKS(t *testing.T, status string, ca []byte) aws.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/clusters/prod" {
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"No cluster found for name: other."}`)
			return
		}
		if !strings.Contains(r.Header.Get("Authorization"), "/us-west-2/eks/aws4_request") {
			t.Errorf("request not signed for eks in us-west-2: %q", r.Header.Get("Authorization"))
		}
		fmt.Fprintf(w, `{"cluster":{"name":"prod","arn":"arn:aws:eks:us-west-2:111122223333:cluster/prod",
			"endpoint":"https://ABC.gr7.us-west-2.eks.amazonaws.com","status":%q,
			"certificateAuthority":{"data":%q}}}`, status, base64.StdEncoding.EncodeToString(ca))
	}))
	t.Cleanup(srv.Close)
	return aws.Config{
		Region:       "us-west-2",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
	}
}

func TestDescribeEKSStatus(t *testing.T) {
	ca := testCAPEM(t)
	for _, tc := range []struct {
		status string
		ok     bool
	}{
		{"ACTIVE", true}, {"UPDATING", true},
		{"CREATING", false}, {"DELETING", false}, {"FAILED", false}, {"PENDING", false},
	} {
		c, err := DescribeEKS(context.Background(), fakeEKS(t, tc.status, ca), "prod")
		if !tc.ok {
			if !errors.Is(err, ErrClusterNotReady) || !strings.Contains(err.Error(), tc.status) {
				t.Errorf("%s: err = %v, want ErrClusterNotReady naming the status", tc.status, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.status, err)
		}
		if c.ARN != "arn:aws:eks:us-west-2:111122223333:cluster/prod" || c.Endpoint != "https://ABC.gr7.us-west-2.eks.amazonaws.com" ||
			c.Name != "prod" || string(c.CAData) != string(ca) {
			t.Errorf("%s: cluster = %+v", tc.status, c)
		}
		if err := CheckCA(c.CAData); err != nil {
			t.Errorf("real PEM rejected: %v", err)
		}
	}
}

func TestDescribeEKSErrors(t *testing.T) {
	cfg := fakeEKS(t, "ACTIVE", testCAPEM(t))
	_, err := DescribeEKS(context.Background(), cfg, "other")
	if err == nil || !strings.Contains(err.Error(), `no cluster named "other" in us-west-2`) {
		t.Errorf("missing cluster: %v", err)
	}
	cfg.Region = ""
	if _, err := DescribeEKS(context.Background(), cfg, "prod"); err == nil || !strings.Contains(err.Error(), "--region") {
		t.Errorf("no region: %v", err)
	}
}

func TestCheckCA(t *testing.T) {
	if err := CheckCA(testCAPEM(t)); err != nil {
		t.Errorf("valid CA: %v", err)
	}
	bundle := append(append([]byte("# comment\n"), testCAPEM(t)...), testCAPEM(t)...)
	if err := CheckCA(bundle); err != nil {
		t.Errorf("bundle: %v", err)
	}
	for name, data := range map[string][]byte{
		"empty":       nil,
		"random":      []byte("q8Yx0Wf3kLm2"), // what moto serves, decoded
		"not a cert":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}),
		"private key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("k")}),
	} {
		if err := CheckCA(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
