// Package mapping is the contract between mapping backends and their users:
// the verified Identity, the Entry every backend reads its source into, the
// Result and Trace of a decision, and the Mapper a backend implements.
//
// The rules that match entries live in mapping/rules, the aws-auth YAML
// format in mapping/awsauth, and last-known-good reloading in mapping/live.
// Backends (file, ConfigMap, CRD, dynamic file) implement Mapper; the server
// asks them in backendMode order (Chain) and the first one that maps the
// identity wins.
package mapping

import (
	"context"
	"errors"
)

// Identity is what STS said about the caller plus what the checked token
// carried. Every field comes from a verified source: ARN/UserID/AccountID from
// the STS answer, AccessKeyID from the validated X-Amz-Credential.
type Identity struct {
	ARN          string // as STS returned it, e.g. arn:aws:sts::111122223333:assumed-role/R/S
	CanonicalARN string // e.g. arn:aws:iam::111122223333:role/R
	AccountID    string
	UserID       string // STS UserId, e.g. AROAEXAMPLE:session or AIDAEXAMPLE
	SessionName  string // empty unless assumed-role / federated-user
	AccessKeyID  string
}

// Result is a successful mapping.
type Result struct {
	Username string
	Groups   []string
	// Source names the backend and entry that matched, for the audit log,
	// e.g. "MountedFile mapRoles[arn:aws:iam::1:role/admin]".
	Source string
}

// ErrNotMapped means the backend holds no entry for the identity. Backends
// return it unwrapped and the chain compares it exactly, so an error that
// merely wraps it still denies. Any other
// error means the backend matched but could not render a result (fail closed).
var ErrNotMapped = errors.New("identity not mapped")

// Mapper is one mapping backend.
type Mapper interface {
	// Name is the backendMode name, e.g. "MountedFile".
	Name() string
	// Map returns ErrNotMapped when no entry applies.
	Map(ctx context.Context, id Identity) (*Result, error)
	// Explain says how Map decides for id: its Result and Err are what Map
	// returns, from the same evaluation.
	Explain(ctx context.Context, id Identity) Trace
}
