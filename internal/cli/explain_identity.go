package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

// explainSession is the session name explain gives a role ARN, which STS
// would report with the caller's own session name.
const explainSession = "iamgate-explain"

// identityFromARN builds the identity STS would report for a caller acting
// as a (any principal ARN shape). An IAM role becomes one of its sessions:
// STS names it assumed-role/NAME/SESSION, without the role's path. note
// says what was assumed, for the reader.
func identityFromARN(s, session, userID, akid string) (id mapping.Identity, note string, err error) {
	a, err := arn.Parse(strings.TrimSpace(s))
	if err != nil {
		return id, "", fmt.Errorf("%q is not a principal ARN: %w (write e.g. arn:aws:iam::111122223333:role/Admin or arn:aws:sts::111122223333:assumed-role/Admin/alice)", s, err)
	}
	if a.Service == "iam" && a.Type == arn.TypeRole {
		if session == "" {
			session = explainSession
		}
		if a.Path != "/" {
			note = "STS reports sessions of " + a.String() + " without the path " + a.Path + "; explained as the session below"
		} else {
			note = "a role is explained as one of its sessions, as STS reports it"
		}
		a = arn.ARN{Partition: a.Partition, Service: "sts", AccountID: a.AccountID, Type: arn.TypeAssumedRole, Name: a.Name, SessionName: session}
	} else if session != "" && a.Type != arn.TypeAssumedRole {
		return id, "", errors.New("--session-name applies only to role ARNs")
	}
	if a.Type == arn.TypeAssumedRole && userID != "" && !strings.Contains(userID, ":") {
		userID += ":" + a.SessionName // STS's UserId of a session is ROLEID:SESSION
	}
	return identityOf(a, a.AccountID, userID, akid), note, nil
}

// identityOf is the identity the server builds from a verified STS answer
// (ARN, account, user id) and the token's access key: the canonical ARN
// and the session name of an assumed role.
func identityOf(a arn.ARN, account, userID, akid string) mapping.Identity {
	return mapping.Identity{
		ARN: a.String(), CanonicalARN: a.Canonical().String(), AccountID: account,
		UserID: userID, SessionName: a.SessionName, AccessKeyID: akid,
	}
}

// tokenCheck is how explain verifies a token: verify's validator and STS
// call, with the cluster id the token must be bound to.
type tokenCheck struct {
	clusterID  string
	partition  string
	stsRegions []string
	stsHosts   []string
}

// identityFromToken verifies tok at STS like "iamgate verify" and returns
// the identity the server would map. Errors never contain the token.
func identityFromToken(ctx context.Context, deps Deps, tok string, c tokenCheck) (mapping.Identity, error) {
	if c.clusterID == "" {
		return mapping.Identity{}, errors.New("cluster id not specified for --token (-i, " + clusterIDEnv + " or clusterID in the -c file)")
	}
	v := &token.Validator{Partition: c.partition, STSRegions: c.stsRegions, ExtraHosts: c.stsHosts, Now: deps.now}
	req, err := v.Validate(tok)
	if err != nil {
		return mapping.Identity{}, fmt.Errorf("token does not verify: %w", err)
	}
	sid, err := sts.New(sts.Options{Transport: deps.STSTransport}).Verify(ctx, req, c.clusterID)
	if err != nil {
		return mapping.Identity{}, fmt.Errorf("token does not verify at STS for cluster id %q: %w (a token for another cluster id, expired, or of deleted credentials)", c.clusterID, err)
	}
	a, err := arn.Parse(sid.ARN)
	if err != nil {
		return mapping.Identity{}, fmt.Errorf("sts returned an ARN iamgate cannot use: %w", err)
	}
	if a.AccountID != sid.Account {
		return mapping.Identity{}, fmt.Errorf("sts answered arn account %q but account %q; the server would deny", a.AccountID, sid.Account)
	}
	return identityOf(a, sid.Account, sid.UserID, req.AccessKeyID), nil
}
