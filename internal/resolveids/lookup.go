// Package resolveids fills in the userid of mapRoles/mapUsers entries from
// IAM (iam:GetRole, iam:GetUser), in a mapping file or in the live aws-auth
// ConfigMap. A userid pins an entry to one principal: a role or user deleted
// and re-created under the same name gets a new unique ID and no longer
// matches, so a name taken over by someone else grants nothing.
//
// It changes nothing unless asked to write, never replaces an existing userid
// unless asked to overwrite, and edits documents through yaml.Node so
// comments, key order and unrelated content survive.
package resolveids

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgate/iamgate/internal/arn"
)

// IAMAPI is the part of the IAM API resolve-ids calls (*iam.Client).
type IAMAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// ErrNotFound means IAM has no principal of that name in the account.
var ErrNotFound = errors.New("no such principal")

// Principal is what IAM reports for a role or user.
type Principal struct {
	// ARN as IAM reports it, path included.
	ARN string
	// ID is the unique ID: AROA... for a role, AIDA... for a user.
	ID string
}

// Lookup asks IAM for principals of one account: the account the
// credentials belong to. IAM's GetRole and GetUser take a bare name and
// answer for the caller's own account, so an entry naming another account
// must never be looked up with them (it would get the ID of a same-named
// principal in the wrong account). Answers are remembered, so a retry after
// a ConfigMap conflict does not ask IAM again.
type Lookup struct {
	iam                IAMAPI
	partition, account string

	mu    sync.Mutex
	cache map[string]result
}

type result struct {
	p   Principal
	err error
}

// NewLookup returns a Lookup for the account and partition of the
// credentials behind client.
func NewLookup(client IAMAPI, partition, account string) *Lookup {
	return &Lookup{iam: client, partition: partition, account: account, cache: map[string]result{}}
}

// CallerAPI is the part of the STS API NewLookupForCaller calls.
type CallerAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// NewLookupForCaller asks STS whose credentials these are and returns a
// Lookup for that account.
func NewLookupForCaller(ctx context.Context, client IAMAPI, stsClient CallerAPI) (*Lookup, error) {
	out, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("find the credentials' account with sts:GetCallerIdentity: %w", err)
	}
	// Only the partition is taken from the ARN: its shape varies with the
	// kind of caller (and some STS fakes get it wrong).
	parts := strings.SplitN(aws.ToString(out.Arn), ":", 3)
	account := aws.ToString(out.Account)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" || !arn.IsAccountID(account) {
		return nil, fmt.Errorf("sts:GetCallerIdentity returned an unexpected answer (arn %q, account %q)", aws.ToString(out.Arn), account)
	}
	return NewLookup(client, parts[1], account), nil
}

// Account returns the account this Lookup answers for.
func (l *Lookup) Account() string { return l.account }

// Partition returns the partition this Lookup answers for.
func (l *Lookup) Partition() string { return l.partition }

// Role returns the role called name (IAM role names are unique in an
// account whatever their path, so no path is needed).
func (l *Lookup) Role(ctx context.Context, name string) (Principal, error) {
	return l.get(ctx, "role/"+strings.ToLower(name), func() (Principal, error) {
		out, err := l.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return Principal{}, classify("iam:GetRole", err)
		}
		if out.Role == nil || aws.ToString(out.Role.RoleId) == "" {
			return Principal{}, errors.New("iam:GetRole returned no role ID")
		}
		return Principal{ARN: aws.ToString(out.Role.Arn), ID: aws.ToString(out.Role.RoleId)}, nil
	})
}

// User returns the user called name.
func (l *Lookup) User(ctx context.Context, name string) (Principal, error) {
	return l.get(ctx, "user/"+strings.ToLower(name), func() (Principal, error) {
		out, err := l.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		if err != nil {
			return Principal{}, classify("iam:GetUser", err)
		}
		if out.User == nil || aws.ToString(out.User.UserId) == "" {
			return Principal{}, errors.New("iam:GetUser returned no user ID")
		}
		return Principal{ARN: aws.ToString(out.User.Arn), ID: aws.ToString(out.User.UserId)}, nil
	})
}

func (l *Lookup) get(ctx context.Context, key string, fetch func() (Principal, error)) (Principal, error) {
	l.mu.Lock()
	r, ok := l.cache[key]
	l.mu.Unlock()
	if ok {
		return r.p, r.err
	}
	p, err := fetch()
	if err != nil && !errors.Is(err, ErrNotFound) {
		return p, err // not remembered: a throttled call may work next time
	}
	l.mu.Lock()
	l.cache[key] = result{p, err}
	l.mu.Unlock()
	return p, err
}

func classify(op string, err error) error {
	var nse *types.NoSuchEntityException
	if errors.As(err, &nse) {
		return ErrNotFound
	}
	return fmt.Errorf("%s: %w", op, err)
}
