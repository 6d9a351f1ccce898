package mapping

import (
	"context"
	"errors"
	"fmt"
)

// Verdict is why one entry did or did not decide a review. The values are
// stable: diagnostics, tests and people's scripts match on them.
type Verdict string

const (
	VerdictMatched           Verdict = "matched"              // this entry decided the review
	VerdictOtherARN          Verdict = "other_arn"            // names another principal of the account
	VerdictPathDiffers       Verdict = "path_differs"         // same user name, another path
	VerdictAccountDiffers    Verdict = "account_differs"      // same name, another account
	VerdictLowerPattern      Verdict = "lower_ranked_pattern" // matches, but a more specific entry won
	VerdictNoPatternMatch    Verdict = "pattern_no_match"     // a pattern of the account that does not fit
	VerdictShadowed          Verdict = "shadowed"             // a later entry for the same principal wins
	VerdictRefused           Verdict = "refused_entry_denies" // the last entry for the principal was refused: deny
	VerdictPinDiffers        Verdict = "userid_pin_differs"   // pinned to another unique ID
	VerdictNotMember         Verdict = "not_group_member"     // an IAM group the user is not in
	VerdictGroupLookupFailed Verdict = "group_lookup_failed"  // IAM could not say: deny
	VerdictReservedName      Verdict = "reserved_name"        // renders a reserved name: deny
	VerdictEC2LookupFailed   Verdict = "ec2_lookup_failed"    // {{EC2PrivateDNSName}} unresolved: deny
	VerdictRenderFailed      Verdict = "render_failed"        // a template could not be filled: deny
	VerdictAmbiguous         Verdict = "ambiguous"            // two entries of equal rank: deny
	VerdictInactive          Verdict = "inactive"             // loaded but off (feature gate, no resolver)
)

// Step is one entry's part in a decision.
type Step struct {
	Entry   Entry
	Verdict Verdict
	// Detail is one line for a person: what differs, and the fix.
	Detail string
}

// BackendTrace is one backend's part in a decision. Err is ErrNotMapped when
// the backend had nothing for the identity (the next backend is asked); any
// other error denies the review.
type BackendTrace struct {
	Backend string
	Steps   []Step
	Winner  *Entry
	Result  *Result
	Err     error
}

// Trace is how a decision was reached: the backends asked, in order, and
// what each said. Result and Err are exactly what Map returns.
type Trace struct {
	Identity Identity
	Backends []BackendTrace
	Result   *Result
	Err      error
}

// ErrGroupLookup is wrapped when IAM could not say which groups a user is
// in while mapGroups entries could apply: the review is denied rather than
// left to mapAccounts or a later backend.
var ErrGroupLookup = errors.New("IAM group lookup failed")

// Chain asks backends in order, as the server does: the first that maps
// the identity wins, and a backend that fails denies (no later backend may
// grant something else).
type Chain []Mapper

// Map returns the first backend's result (Source defaults to the
// backend's name), or ErrNotMapped. An error names the backend.
func (c Chain) Map(ctx context.Context, id Identity) (*Result, error) {
	for _, m := range c {
		res, err := m.Map(ctx, id)
		if err == ErrNotMapped { // exactly: a wrapped one may carry a deny too
			continue
		}
		return decided(m.Name(), res, err)
	}
	return nil, ErrNotMapped
}

// Explain traces every backend Map asks, in the same order and stopping
// at the same one, with the same answer.
func (c Chain) Explain(ctx context.Context, id Identity) Trace {
	tr := Trace{Identity: id, Err: ErrNotMapped}
	for _, m := range c {
		bt := m.Explain(ctx, id)
		tr.Backends = append(tr.Backends, bt.Backends...)
		if bt.Err == ErrNotMapped {
			continue
		}
		tr.Result, tr.Err = decided(m.Name(), bt.Result, bt.Err)
		break
	}
	return tr
}

// decided is what the chain answers when backend decided with res, err: a
// copy of the result (the caller may keep it), or the error naming the
// backend. A backend that answers no username denies.
func decided(backend string, res *Result, err error) (*Result, error) {
	switch {
	case err != nil:
		return nil, fmt.Errorf("mapper %s: %w", backend, err)
	case res == nil || res.Username == "":
		return nil, fmt.Errorf("mapper %s returned no username", backend)
	}
	out := &Result{Username: res.Username, Groups: append([]string(nil), res.Groups...), Source: res.Source}
	if out.Source == "" {
		out.Source = backend
	}
	return out, nil
}
