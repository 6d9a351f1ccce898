package awscreds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamgate/iamgate/internal/tokencache"
)

// MinCredentialLife is how much validity cached (or freshly fetched)
// temporary credentials must have to be reused: a token signed with them
// must stay good for its 14 minutes, and STS rejects URLs signed with expired
// credentials. Credentials with less left are refreshed before signing.
const MinCredentialLife = 15 * time.Minute

// diskSource marks credentials served from the disk cache.
const diskSource = "iamgate-disk-cache"

// diskProvider keeps expiring credentials in the cache directory (0600
// files, atomic replace; see tokencache) so a second kubectl call does not
// redo AssumeRole, and above all does not ask for another MFA code.
type diskProvider struct {
	inner aws.CredentialsProvider
	store tokencache.Store
	file  string
	now   func() time.Time
	warn  io.Writer
}

type diskCreds struct {
	Version         int       `json:"v"`
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken,omitempty"`
	Expires         time.Time `json:"expires"`
	AccountID       string    `json:"accountId,omitempty"`
}

func (p *diskProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	now := p.now()
	if c, ok := p.load(now); ok {
		return c, nil
	}
	c, err := p.inner.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	if !c.CanExpire {
		// Long-lived keys already live on disk or in the environment;
		// copying them here would only add a place to leak them from.
		return c, nil
	}
	if c.Expires.Sub(now) <= MinCredentialLife {
		_ = p.store.Remove(p.file)
		return c, nil
	}
	b, err := json.Marshal(diskCreds{Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, Expires: c.Expires, AccountID: c.AccountID})
	if err == nil {
		err = p.store.WriteFile(p.file, b)
	}
	if err != nil && p.warn != nil {
		fmt.Fprintf(p.warn, "warning: could not cache AWS credentials: %v\n", err)
	}
	return c, nil
}

func (p *diskProvider) load(now time.Time) (aws.Credentials, bool) {
	b, err := p.store.ReadFile(p.file)
	if err != nil {
		return aws.Credentials{}, false
	}
	var d diskCreds
	if json.Unmarshal(b, &d) != nil || d.Version != 1 || d.AccessKeyID == "" || d.SecretAccessKey == "" ||
		d.Expires.Sub(now) <= MinCredentialLife {
		return aws.Credentials{}, false
	}
	return aws.Credentials{AccessKeyID: d.AccessKeyID, SecretAccessKey: d.SecretAccessKey,
		SessionToken: d.SessionToken, CanExpire: true, Expires: d.Expires, AccountID: d.AccountID,
		Source: diskSource}, true
}
