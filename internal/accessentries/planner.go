package accessentries

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

type planner struct {
	o    Options
	plan *Plan
	// claimed maps a principal key to the origin of the export for it;
	// denied to the refused entry that makes the server deny it.
	claimed, denied map[string]string
	// wide are the patterns and accounts of earlier backends: the server
	// asks them before any later backend.
	wide, pending []wideEntry
}

// wideEntry is a pattern or account entry that answers for principals
// before later backends are asked.
type wideEntry struct {
	origin  string
	pattern string // ARN pattern with "*", or ""
	account string // for an account entry
}

func (p *planner) skip(backend string, e mapping.Entry, format string, args ...any) {
	p.plan.Skipped = append(p.plan.Skipped, Skipped{Backend: backend, Origin: e.Origin, Names: e.Names(),
		Reason: fmt.Sprintf(format, args...)})
}

func (p *planner) closeBackend() {
	p.wide = append(p.wide, p.pending...)
	p.pending = nil
}

func (p *planner) entry(ctx context.Context, backend string, l rules.Listed) {
	e := l.Entry
	if !l.Active {
		if l.Verdict == mapping.VerdictRefused {
			if k, ok := keyOfWritten(e); ok {
				if _, seen := p.denied[k]; !seen {
					p.denied[k] = backend + " " + e.Origin.String()
				}
			}
			p.skip(backend, e, "refused by iamgate, so the server denies this principal: %s", l.Why)
			return
		}
		p.skip(backend, e, "shadowed: %s", l.Why)
		return
	}
	switch e.Kind {
	case mapping.KindAccount:
		p.pending = append(p.pending, wideEntry{origin: backend + " " + e.Origin.String(), account: e.Account})
		p.skip(backend, e, "mapAccounts has no access-entry equivalent: every principal of account %s is mapped; create an entry for each role or user that needs access", e.Account)
		return
	case mapping.KindGroup:
		p.group(ctx, backend, e)
		return
	case mapping.KindSSO:
		a, err := p.ssoRole(ctx, e.SSO)
		if err != nil {
			p.skip(backend, e, "%v", err)
			return
		}
		p.export(ctx, backend, e, principal{arn: a, role: true, note: "the permission set's role in IAM: " + a})
		return
	}
	if strings.Contains(e.ARN, "*") {
		p.pending = append(p.pending, wideEntry{origin: backend + " " + e.Origin.String(), pattern: e.ARN})
		p.skip(backend, e, "pattern: an access entry names one principal; create one for each %s that matches", e.Kind)
		return
	}
	if k, ok := keyOfWritten(e); ok && p.decided(backend, e, k) {
		return
	}
	pr, err := p.resolve(ctx, e)
	if err != nil {
		p.skip(backend, e, "%v", err)
		return
	}
	p.export(ctx, backend, e, pr)
}

// principal is the IAM principal an entry is exported for.
type principal struct {
	arn  string
	role bool
	note string
}

// resolve turns an exact role or user entry into the ARN an access entry
// takes: a role's with its path (from IAM when the entry has none), an
// assumed-role session's role, a user's as written.
func (p *planner) resolve(ctx context.Context, e mapping.Entry) (principal, error) {
	a, err := arn.Parse(e.ARN)
	if err != nil {
		return principal{}, fmt.Errorf("ARN does not parse: %w", err)
	}
	switch a.Type {
	case arn.TypeAssumedRole:
		return p.role(ctx, e, a.Partition, a.AccountID, a.Name, "", "written as an assumed-role session; EKS takes the role")
	case arn.TypeRole:
		path := a.Path
		if path == "/" {
			path = "" // as aws-auth must write it: the role may have a path
		}
		return p.role(ctx, e, a.Partition, a.AccountID, a.Name, path, "")
	case arn.TypeUser:
		pr := principal{arn: e.ARN}
		if e.UserID != "" {
			pr.note = "pinned to unique id " + e.UserID + ": EKS binds the entry to the user's id when it is created; make sure the user was not re-created"
		}
		return pr, nil
	case arn.TypeRoot:
		return principal{}, fmt.Errorf("the account root is not an IAM role or user; access entries name roles and users")
	}
	return principal{}, fmt.Errorf("a %s is not an IAM role or user; access entries name roles and users", a.Type)
}

// role finds the role's full ARN. path is "" when the entry has none
// (aws-auth entries must not have one), "/" or "/a/b/" otherwise.
func (p *planner) role(ctx context.Context, e mapping.Entry, partition, account, name, path, note string) (principal, error) {
	written := fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition, account, path, name)
	if p.o.IAM == nil {
		switch {
		case e.UserID != "":
			return principal{}, fmt.Errorf("pinned to unique id %s and no AWS credentials to check it with IAM GetRole: the server denies a re-created role, an access entry would not", e.UserID)
		case path == "":
			return principal{}, fmt.Errorf("role written without its path and no AWS credentials to ask IAM GetRole for it: EKS needs the role's full ARN (give credentials for account %s, or write the ARN with its path in a -c file)", account)
		}
		return principal{arn: written, role: true, note: join(note, "path as written, not checked with IAM (no AWS credentials)")}, nil
	}
	got, err := p.getRole(ctx, name)
	var ga arn.ARN
	if err == nil {
		ga, err = arn.Parse(got.arn)
	}
	sameAccount := err == nil && ga.AccountID == account && ga.Partition == partition
	switch {
	case !sameAccount && path != "" && e.UserID == "":
		// Another account's role: these credentials cannot see it.
		why := "IAM answered for another account"
		if err != nil {
			why = err.Error()
		}
		return principal{arn: written, role: true, note: join(note, "path as written, not checked with IAM ("+why+")")}, nil
	case err != nil:
		return principal{}, fmt.Errorf("cannot find the role's path: %w", err)
	case !sameAccount:
		return principal{}, fmt.Errorf("IAM GetRole answered %s, which is not in account %s: use credentials of that account", got.arn, account)
	case path != "" && got.arn != written:
		return principal{}, fmt.Errorf("written with path %s, but the role in IAM is %s", path, got.arn)
	case e.UserID != "" && e.UserID != got.id:
		return principal{}, fmt.Errorf("pinned to unique id %s, but the role's id is now %s (re-created?): the server denies it", e.UserID, got.id)
	}
	if path == "" {
		note = join(note, "path from IAM GetRole")
	}
	return principal{arn: got.arn, role: true, note: note}, nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// export writes the calls for e as principal pr, unless an earlier entry
// decides for pr.
func (p *planner) export(ctx context.Context, backend string, e mapping.Entry, pr principal) {
	k := key(pr.arn)
	if p.decided(backend, e, k) {
		return
	}
	x := Export{Backend: backend, Origin: e.Origin, Names: e.Names(),
		Create: CreateAccessEntry{ClusterName: p.o.Cluster, PrincipalArn: pr.arn, Type: TypeStandard}}
	if pr.note != "" {
		x.Notes = append(x.Notes, pr.note)
	}
	if e.Username == "system:node:{{SessionName}}" {
		p.skip(backend, e, "node entry with {{SessionName}} (Fargate pods or hybrid nodes): EKS needs its type chosen; create it by hand with --type FARGATE_LINUX or HYBRID_LINUX")
		return
	}
	if typ, ok := nodeType(e); ok {
		if !pr.role {
			p.skip(backend, e, "node username on a user: node access entries take IAM roles")
			return
		}
		x.Create.Type = typ
		if extra := nonNodeGroups(e.Groups, typ); len(extra) > 0 {
			x.Notes = append(x.Notes, "groups "+strings.Join(extra, ", ")+" not carried: EKS sets a node entry's username and groups")
		}
	} else {
		if err := p.standard(&x, e, pr); err != nil {
			p.skip(backend, e, "%v", err)
			return
		}
	}
	for _, w := range p.wide {
		if w.covers(pr.arn) {
			x.Notes = append(x.Notes, "the server asks "+w.origin+" first, which also maps this principal: the access entry grants what this entry gives instead")
		}
	}
	p.claimed[k] = backend + " " + e.Origin.String()
	p.plan.Exports = append(p.plan.Exports, x)
}

// decided skips e when an earlier entry decides for its principal k.
func (p *planner) decided(backend string, e mapping.Entry, k string) bool {
	if by, ok := p.denied[k]; ok {
		p.skip(backend, e, "the server denies this principal: %s is refused and decides first", by)
		return true
	}
	if by, ok := p.claimed[k]; ok {
		p.skip(backend, e, "principal already exported from %s, which the server asks first; EKS takes one access entry per principal", by)
		return true
	}
	return false
}

// standard fills a STANDARD entry's username, groups and policies.
func (p *planner) standard(x *Export, e mapping.Entry, pr principal) error {
	account := ""
	if a, err := arn.Parse(pr.arn); err == nil {
		account = a.AccountID
	}
	u, note, err := username(e.Username, pr.role, account)
	if err != nil {
		return err
	}
	x.Create.Username = u
	if note != "" {
		x.Notes = append(x.Notes, note)
	}
	for _, g := range e.Groups {
		switch {
		case g == "system:masters":
			x.Associate = append(x.Associate, AssociateAccessPolicy{ClusterName: p.o.Cluster, PrincipalArn: pr.arn,
				PolicyArn: policyARN(pr.arn, ClusterAdminPolicy), AccessScope: AccessScope{Type: "cluster"}})
			x.Notes = append(x.Notes, "system:masters becomes "+ClusterAdminPolicy+" at cluster scope")
		case strings.HasPrefix(g, "system:"):
			x.Notes = append(x.Notes, "group "+g+" dropped: EKS refuses system: groups in kubernetesGroups")
		case strings.Contains(g, "{{"):
			x.Notes = append(x.Notes, "group "+g+" dropped: kubernetesGroups are fixed names, not templates")
		case !slices.Contains(x.Create.KubernetesGroups, g):
			x.Create.KubernetesGroups = append(x.Create.KubernetesGroups, g)
		}
	}
	return nil
}

// policyARN is an EKS access policy's ARN in the principal's partition.
func policyARN(principalARN, name string) string {
	part := "aws"
	if a, err := arn.Parse(principalARN); err == nil {
		part = a.Partition
	}
	return "arn:" + part + ":eks::aws:cluster-access-policy/" + name
}

func (w wideEntry) covers(principalARN string) bool {
	if w.account != "" {
		a, err := arn.Parse(principalARN)
		return err == nil && a.AccountID == w.account
	}
	// Patterns match what STS reports: a role's ARN without its path.
	a, err := arn.Parse(principalARN)
	if err != nil {
		return false
	}
	if a.Type == arn.TypeRole {
		principalARN = "arn:" + a.Partition + ":iam::" + a.AccountID + ":role/" + a.Name
	}
	return globMatch(w.pattern, principalARN)
}

// globMatch matches s against pattern, "*" standing for any text.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, part := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, part)
		}
		j := strings.Index(s, part)
		if j < 0 {
			return false
		}
		s = s[j+len(part):]
	}
	return s == ""
}
