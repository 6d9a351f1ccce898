package kubeconfig

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// EKSCluster is what a kubeconfig needs from EKS DescribeCluster.
type EKSCluster struct {
	Name     string
	ARN      string
	Endpoint string
	Status   string
	// CAData is certificateAuthority.data, base64-decoded: the PEM bundle
	// EKS serves (see CheckCA).
	CAData []byte
}

// ErrClusterNotReady is returned for a cluster that is neither ACTIVE nor
// UPDATING: it has no endpoint worth writing yet (or any more).
var ErrClusterNotReady = errors.New("cluster is not ACTIVE or UPDATING")

// DescribeEKS looks the cluster up with EKS DescribeCluster in cfg's region,
// using cfg's credentials and endpoint settings (so AWS_ENDPOINT_URL_EKS and
// endpoint_url in the shared config apply, as in every SDK client).
func DescribeEKS(ctx context.Context, cfg aws.Config, name string, optFns ...func(*eks.Options)) (*EKSCluster, error) {
	if cfg.Region == "" {
		return nil, errors.New("describe EKS cluster: no AWS region: pass --region or set AWS_REGION or a region in your AWS profile")
	}
	out, err := eks.NewFromConfig(cfg, optFns...).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("describe EKS cluster: no cluster named %q in %s: %w", name, cfg.Region, err)
		}
		return nil, fmt.Errorf("describe EKS cluster %q in %s: %w", name, cfg.Region, err)
	}
	c := out.Cluster
	if c == nil {
		return nil, fmt.Errorf("describe EKS cluster %q: empty answer", name)
	}
	res := &EKSCluster{
		Name:     aws.ToString(c.Name),
		ARN:      aws.ToString(c.Arn),
		Endpoint: aws.ToString(c.Endpoint),
		Status:   string(c.Status),
	}
	if res.Name == "" {
		res.Name = name
	}
	switch c.Status {
	case ekstypes.ClusterStatusActive, ekstypes.ClusterStatusUpdating:
	default:
		return nil, fmt.Errorf("EKS cluster %q is %s: %w", name, res.Status, ErrClusterNotReady)
	}
	if res.Endpoint == "" {
		return nil, fmt.Errorf("EKS cluster %q has no endpoint", name)
	}
	if res.ARN == "" {
		return nil, fmt.Errorf("EKS cluster %q has no ARN", name)
	}
	if c.CertificateAuthority != nil && aws.ToString(c.CertificateAuthority.Data) != "" {
		ca, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
		if err != nil {
			return nil, fmt.Errorf("EKS cluster %q: certificate authority data is not base64: %w", name, err)
		}
		res.CAData = ca
	}
	return res, nil
}

// CheckCA reports whether data is a PEM bundle of at least one X.509
// certificate. EKS always serves one; API stand-ins (moto) serve random
// bytes. Callers write what EKS said, as aws-cli does, and warn when this
// fails, since kubectl will then refuse the server.
func CheckCA(data []byte) error {
	if len(data) == 0 {
		return errors.New("no certificate authority data")
	}
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate authority data: %w", err)
		}
		n++
	}
	if n == 0 {
		return errors.New("certificate authority data holds no PEM certificate")
	}
	return nil
}
