package iamgroups

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/awslookup/assume"
	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

// Accounts of the cross-account tests: other has a role entry, third not.
const (
	other = "210987654321"
	third = "333344445555"
)

const otherRole = "arn:aws:iam::" + other + ":role/iamgate-iam-groups"

func fromConfig(t *testing.T, cfg aws.Config, cc ClientConfig, o Options) *Resolver {
	t.Helper()
	r, err := NewFromConfig(cfg, cc, o)
	if err != nil {
		t.Fatalf("NewFromConfig: %v", err)
	}
	return r
}

// newWorldIn is newWorld acting in account acct: moto lets any caller
// assume a role of any account (the role need not exist), and the
// credentials it returns act in the role's account, where IAM has users
// and groups of its own.
func newWorldIn(t *testing.T, acct string) *world {
	url := moto.URL(t)
	out, err := sts.NewFromConfig(moto.Config(url, nil)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + acct + ":role/test-setup"), RoleSessionName: aws.String("setup"),
	})
	if err != nil {
		t.Fatalf("moto AssumeRole into %s: %v", acct, err)
	}
	cfg := moto.Config(url, nil)
	k := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), aws.ToString(k.SessionToken))
	return &world{t: t, url: url, iam: iam.NewFromConfig(cfg)}
}

// The premise of the cross-account tests, checked against this moto: IAM
// resources are per account, and assumed credentials act in the role's.
func TestMotoAssumedCredentialsActInRoleAccount(t *testing.T) {
	name := unique("premise")
	if got := newWorldIn(t, other).user("/", name); got != "arn:aws:iam::"+other+":user/"+name {
		t.Fatalf("user created with assumed credentials = %s, want it in account %s", got, other)
	}
	_, err := newWorld(t).iam.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(name)})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("GetUser in the default account: %v, want NoSuchEntity (accounts must not share users)", err)
	}
}

// A user of an account with a role is looked up with the role's cached
// credentials, in that account; a same-named user of the server's own
// account still with the server's own credentials; a user of an account
// with neither is refused without a call.
func TestRoleForAccountLooksUpThatAccount(t *testing.T) {
	own, far := newWorld(t), newWorldIn(t, other)
	name, name2 := unique("ivy"), unique("jack")
	ownARN := own.user("/", name)
	ownGroup := own.group("/", unique("own-admins"), name)
	farARN, farARN2 := far.user("/", name), far.user("/team/", name2)
	farGroup := far.group("/", unique("far-devs"), name, name2)
	if !strings.Contains(farARN, ":"+other+":") || !strings.Contains(farGroup, ":"+other+":") {
		t.Fatalf("setup: %s, %s not in account %s", farARN, farGroup, other)
	}

	c := &moto.Counter{}
	m := NewMetrics(prometheus.NewRegistry())
	r := fromConfig(t, moto.Config(own.url, c), ClientConfig{
		AccountRoleARNs: map[string]string{other: otherRole}, ExternalID: "ext-1",
	}, Options{AccountID: acct, Metrics: m})
	for _, tc := range []struct{ user, want string }{
		{farARN, farGroup}, {farARN2, farGroup}, {ownARN, ownGroup}, {farARN, farGroup},
	} {
		got, err := r.GroupsForUser(context.Background(), tc.user)
		if err != nil {
			t.Fatalf("GroupsForUser(%s): %v", tc.user, err)
		}
		if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
			t.Errorf("GroupsForUser(%s) (-want +got):\n%s", tc.user, diff)
		}
	}
	if _, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+third+":user/"+name); !errors.Is(err, ErrOtherAccount) {
		t.Errorf("user of an account without a role: err = %v, want ErrOtherAccount", err)
	}

	if a, l := c.Count("AssumeRole"), c.Count(listCall); a != 1 || l != 3 {
		t.Fatalf("AssumeRole = %d, %s = %d; want 1 (credentials cached), 3 (one per user)", a, listCall, l)
	}
	f := c.Forms("AssumeRole")[0]
	if f.Get("RoleArn") != otherRole || f.Get("RoleSessionName") != DefaultRoleSessionName || f.Get("ExternalId") != "ext-1" {
		t.Errorf("AssumeRole form = %v; want role %s, session %s, external id ext-1", f, otherRole, DefaultRoleSessionName)
	}
	if k := c.AccessKeys("AssumeRole")[0]; k != moto.AccessKeyID {
		t.Errorf("AssumeRole signed with %q, want the server's own key", k)
	}
	keys := c.AccessKeys(listCall)
	if keys[0] == "" || keys[0] == moto.AccessKeyID || keys[1] != keys[0] || keys[2] != moto.AccessKeyID {
		t.Errorf("%s signed with %q; want the role's key twice, then the server's own", listCall, keys)
	}
	if count(m, ResultOK) != 3 || count(m, ResultCacheHit) != 1 || count(m, ResultRejected) != 1 {
		t.Errorf("metrics ok=%v cache_hit=%v rejected=%v, want 3, 1, 1", count(m, ResultOK), count(m, ResultCacheHit), count(m, ResultRejected))
	}
}

// failAssume fails every STS AssumeRole and passes everything else on.
type failAssume struct{ base http.RoundTripper }

func (f failAssume) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		if strings.Contains(string(body), "Action=AssumeRole") {
			return nil, errors.New("sts unreachable")
		}
	}
	return f.base.RoundTrip(req)
}

// When the role cannot be assumed, the lookup fails: it never falls back to
// the server's own credentials, and the failure is not cached.
func TestAssumeRoleFailureFailsClosed(t *testing.T) {
	own := newWorld(t)
	name := unique("kim")
	own.user("/", name) // a fallback to the server's credentials would find her
	own.group("/", unique("own-admins"), name)
	c := &moto.Counter{Base: failAssume{base: moto.NewTransport()}}
	m := NewMetrics(prometheus.NewRegistry())
	r := fromConfig(t, moto.Config(own.url, c), ClientConfig{AccountRoleARNs: map[string]string{other: otherRole}}, Options{Metrics: m})
	for i := range 2 {
		got, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+other+":user/"+name)
		if err == nil || got != nil || !strings.Contains(err.Error(), "sts unreachable") {
			t.Fatalf("call %d: %v, %v; want the AssumeRole error and no groups", i, got, err)
		}
	}
	if a, l := c.Count("AssumeRole"), c.Count(listCall); a != 2 || l != 0 {
		t.Errorf("AssumeRole = %d, %s = %d; want 2 (failures not cached), 0", a, listCall, l)
	}
	if count(m, ResultError) != 2 {
		t.Errorf("error count = %v, want 2", count(m, ResultError))
	}
}

// Users go to the client of their account, else to the server's own one
// (refused instead when AccountID is set and is another account).
func TestAccountChoice(t *testing.T) {
	const user = ":user/u"
	for _, tc := range []struct {
		name, accountID, userAcct string
		wantOwn, wantOther        int64
		wantErr                   error
	}{
		{"own account", acct, acct, 1, 0, nil},
		{"account with a client", acct, other, 0, 1, nil},
		{"other account refused", acct, third, 0, 0, ErrOtherAccount},
		{"other account, no AccountID: own client", "", third, 1, 0, nil},
		{"client account is AccountID too", other, other, 0, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ownFake, otherFake := &fakeIAM{}, &fakeIAM{}
			r := NewWithAccounts(ownFake, map[string]IAMAPI{other: otherFake}, Options{AccountID: tc.accountID})
			_, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+tc.userAcct+user)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if o, x := ownFake.calls.Load(), otherFake.calls.Load(); o != tc.wantOwn || x != tc.wantOther {
				t.Errorf("own calls = %d, account client calls = %d; want %d, %d", o, x, tc.wantOwn, tc.wantOther)
			}
		})
	}
}

// A client that answers for the wrong account cannot grant: its groups are
// not in the user's account.
func TestAccountClientForWrongAccountFailsClosed(t *testing.T) {
	wrong := &fakeIAM{pages: []*iam.ListGroupsForUserOutput{{Groups: []types.Group{{Arn: aws.String("arn:aws:iam::" + acct + ":group/admins")}}}}}
	r := NewWithAccounts(&fakeIAM{}, map[string]IAMAPI{other: wrong}, Options{})
	if got, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+other+":user/u"); !errors.Is(err, ErrBadAnswer) || got != nil {
		t.Errorf("got %v, %v; want ErrBadAnswer", got, err)
	}
}

// Each account has a rate limiter of its own: IAM's limits are per account,
// and a burst for one account must not starve lookups of another.
func TestRateLimitPerAccount(t *testing.T) {
	ownFake, otherFake := &fakeIAM{}, &fakeIAM{}
	m := NewMetrics(prometheus.NewRegistry())
	r := NewWithAccounts(ownFake, map[string]IAMAPI{other: otherFake},
		Options{QPS: 0.001, Burst: 1, Timeout: 100 * time.Millisecond, Metrics: m})
	for i, tc := range []struct {
		acct, name string
		want       error
	}{
		{acct, "a", nil}, {other, "a", nil}, // each account's burst
		{acct, "b", ErrRateLimited}, {other, "b", ErrRateLimited}, // each spent
		{third, "a", ErrRateLimited}, // accounts without a client share the server's
	} {
		if _, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+tc.acct+":user/"+tc.name); !errors.Is(err, tc.want) {
			t.Errorf("lookup %d (%s): err = %v, want %v", i, tc.acct, err, tc.want)
		}
	}
	if o, x := ownFake.calls.Load(), otherFake.calls.Load(); o != 1 || x != 1 || count(m, ResultRateLimited) != 3 {
		t.Errorf("own calls = %d, account calls = %d, rate_limited = %v; want 1, 1, 3", o, x, count(m, ResultRateLimited))
	}
}

func TestClientConfigValidation(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1"}
	_, err := NewFromConfig(cfg, ClientConfig{AccountRoleARNs: map[string]string{
		other: "arn:aws:iam::" + third + ":role/r", // role in another account
		"123": "arn:aws:iam::123:role/r",           // not an account id
		third: "arn:aws:iam::" + third + ":user/u", // not a role
	}}, Options{})
	if !errors.Is(err, assume.ErrBadConfig) {
		t.Fatalf("err = %v, want assume.ErrBadConfig", err)
	}
	for _, want := range []string{"[123]", "[" + other + "]", "[" + third + "]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v; want every bad entry, %s missing", err, want)
		}
	}
	if _, err := NewFromConfig(aws.Config{}, ClientConfig{AccountRoleARNs: map[string]string{other: otherRole}}, Options{}); !errors.Is(err, assume.ErrBadConfig) {
		t.Errorf("roles without a region for STS: err = %v, want assume.ErrBadConfig", err)
	}
	if _, err := NewFromConfig(aws.Config{}, ClientConfig{}, Options{}); err != nil {
		t.Errorf("no roles, no region (as before roles existed): %v", err)
	}
}
