package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/iamgate/iamgate/internal/rbacview"
)

const whoCanLong = `List the IAM principals that may do one thing in the cluster, and why.

Every active entry of every configured backend (-c, and the live aws-auth
ConfigMap or IAMIdentityMappings through the kubeconfig) is a principal:
an exact role or user ARN, a pattern, an SSO permission set, an IAM group's
members or a whole account. who-can takes the username and groups the entry
gives, asks the apiserver's own authorizer (a SubjectAccessReview per distinct
username and groups, system:authenticated added as the apiserver adds it) and
lists the principals it allows, with the bindings whose roles grant the
request, or system:masters.

A username with a variable ({{SessionName}}, {{AccessKeyID}},
{{EC2PrivateDNSName}}, or the caller's ARN for mapAccounts) depends on the
caller, so such entries are checked by their groups only; user bindings the
username could match are listed under "possible", unconfirmed. Groups with a
variable are left out the same way.

The kubeconfig needs the ClusterRole in deploy/rbac/diagnostics-clusterrole.yaml.
Exit status: 0 when answered (even with no principal), 1 on bad input or when
the cluster could not be asked.`

const whoCanExample = `  # Who may delete pods in "apps"?
  iamgate who-can delete pods -n apps -c /etc/iamgate/config.yaml --kubeconfig admin.kubeconfig

  # Read one secret, answered as JSON
  iamgate who-can get secrets --name db-password -n apps --kubeconfig admin.kubeconfig -o json

  # Subresources: exec into pods anywhere
  iamgate who-can create pods/exec --kubeconfig admin.kubeconfig`

type whoCanOptions struct {
	adminFlags
	req     requestFlags
	output  string
	workers int
}

// NewWhoCanCommand is "iamgate who-can".
func NewWhoCanCommand(deps Deps, streams Streams) *cobra.Command {
	var o whoCanOptions
	cmd := &cobra.Command{
		Use:     "who-can VERB RESOURCE",
		Short:   "List the IAM principals the cluster lets do VERB on RESOURCE, and through which binding",
		Long:    whoCanLong,
		Example: whoCanExample,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return errors.New("who-can takes VERB and RESOURCE, e.g. who-can get pods -n apps")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.req.verb, o.req.resource = args[0], args[1]
			return runWhoCan(cmd.Context(), deps, streams, &o)
		},
	}
	f := cmd.Flags()
	o.adminFlags.addFlags(f)
	o.req.addScope(f)
	f.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	f.IntVar(&o.workers, "concurrency", 8, "SubjectAccessReviews in flight at once")
	return cmd
}

// whoCanAnswer is what who-can prints; -o json writes it as is.
type whoCanAnswer struct {
	Request   string      `json:"request"`
	Cluster   string      `json:"cluster"`
	Allowed   []whoCanRow `json:"allowed"`
	Possible  []whoCanRow `json:"possible,omitempty"`
	Entries   int         `json:"entriesChecked"`
	Subjects  int         `json:"subjectAccessReviews"`
	Inactive  int         `json:"inactiveEntries"`
	Bindings  int         `json:"bindings"`
	DeniedFor int         `json:"denied"`
}

// whoCanRow is one entry and the authorizer's answer for what it renders.
type whoCanRow struct {
	Backend       string   `json:"backend"`
	Kind          string   `json:"kind"`
	Principal     string   `json:"principal"`
	Origin        string   `json:"origin"`
	Username      string   `json:"username"`
	UsernameFixed bool     `json:"usernameFixed"`
	Groups        []string `json:"groups"`
	DroppedGroups []string `json:"templatedGroups,omitempty"`
	Via           []string `json:"via,omitempty"`
	Reason        string   `json:"reason,omitempty"`
}

func runWhoCan(ctx context.Context, deps Deps, streams Streams, o *whoCanOptions) error {
	if o.output != "table" && o.output != "json" {
		return fmt.Errorf("unsupported output format %q (table or json)", o.output)
	}
	req, _, err := o.req.request()
	if err != nil {
		return err
	}
	rc, haveKube, err := o.restConfig(deps.getenv)
	if err != nil {
		return err
	}
	if !haveKube {
		return errors.New("who-can asks the cluster: pass --kubeconfig (or set $KUBECONFIG)")
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	if req, err = o.req.resolve(cs.Discovery(), req); err != nil {
		return err
	}
	c, err := o.adminFlags.config(deps.getenv)
	if err != nil {
		return err
	}
	// RBAC first: a kubeconfig without the diagnostics' permissions is
	// told so at once, not after the live backends' wait.
	snap, err := rbacview.Load(ctx, cs)
	if err != nil {
		return fmt.Errorf("rbac of %s: %w", rc.Host, err)
	}
	opened, err := openBackends(ctx, c, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), o.wait)
	if err != nil {
		return err
	}
	defer opened.Close()
	ans, err := whoCan(ctx, cs, snap, opened.Tables, req, o.workers)
	if err != nil {
		return fmt.Errorf("ask %s: %w", rc.Host, err)
	}
	ans.Cluster = rc.Host
	if o.output == "json" {
		return writeJSON(streams.Out, ans)
	}
	return ans.print(streams.Out)
}

// whoCan evaluates every active entry of tables: one SubjectAccessReview
// per distinct fixed username and groups, the bindings named from snap.
func whoCan(ctx context.Context, c kubernetes.Interface, snap *rbacview.Snapshot, tables []namedTable, req rbacview.Request, workers int) (*whoCanAnswer, error) {
	ans := &whoCanAnswer{Request: req.String(), Allowed: []whoCanRow{}, Bindings: len(snap.Bindings)}
	type pending struct {
		row whoCanRow
		es  entrySubject
	}
	var rows []pending
	subjects := map[string]rbacview.Subjects{}
	for _, t := range tables {
		for _, l := range t.Table.Entries() {
			if !l.Active {
				ans.Inactive++
				continue
			}
			ans.Entries++
			es := subjectOf(l.Entry)
			ev := entryViewOf(l.Entry)
			rows = append(rows, pending{whoCanRow{Backend: t.Name, Kind: ev.Kind, Principal: ev.Names, Origin: ev.Origin,
				Username: l.Entry.Username, UsernameFixed: es.userPattern == nil, Groups: nonNil(es.sub.Groups), DroppedGroups: es.dropped}, es})
			subjects[es.key()] = es.sub
		}
	}
	ans.Subjects = len(subjects)
	decisions, err := reviewAll(ctx, c, subjects, req, workers)
	if err != nil {
		return nil, err
	}
	for _, p := range rows {
		d := decisions[p.es.key()]
		row := p.row
		matches := snap.For(p.es.sub)
		for _, m := range rbacview.Granting(matches, req) {
			row.Via = append(row.Via, m.Binding.String()+" ("+m.Binding.RoleString()+", "+m.Via+")")
		}
		if rbacview.Unrestricted(p.es.sub.Groups) {
			row.Via = append([]string{rbacview.Masters + " (unrestricted)"}, row.Via...)
		}
		row.Reason = d.Reason
		if d.Allowed {
			ans.Allowed = append(ans.Allowed, row)
			continue
		}
		ans.DeniedFor++
		if p.es.userPattern != nil {
			// Only a binding naming one of the usernames the template can
			// produce could still allow it: say so, unconfirmed.
			var maybe []string
			for _, u := range snap.UserNames() {
				if !p.es.userPattern.MatchString(u) {
					continue
				}
				for _, m := range rbacview.Granting(snap.For(rbacview.Subjects{User: u}), req) {
					if strings.HasPrefix(m.Via, "User ") {
						maybe = append(maybe, m.Binding.String()+" (if the username is "+u+")")
					}
				}
			}
			if len(maybe) > 0 {
				row.Via, row.Reason = maybe, "not confirmed: depends on the caller's username"
				ans.Possible = append(ans.Possible, row)
			}
		}
	}
	return ans, nil
}

// reviewAll asks one SubjectAccessReview per subject, workers at a time.
// The first error stops the answer: nothing is printed half-known.
func reviewAll(ctx context.Context, c kubernetes.Interface, subjects map[string]rbacview.Subjects, req rbacview.Request, workers int) (map[string]rbacview.Decision, error) {
	if workers < 1 {
		workers = 1
	}
	keys := make([]string, 0, len(subjects))
	for k := range subjects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]rbacview.Decision, len(keys))
	var mu sync.Mutex
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				d, err := rbacview.Review(ctx, c, subjects[k], nil, req)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				out[k] = d
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		if ctx.Err() != nil {
			break
		}
		work <- k
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *whoCanAnswer) print(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "who may %s (%s)\n", a.Request, a.Cluster)
	fmt.Fprintf(&b, "%d active entries checked with %d SubjectAccessReviews against %d bindings; %d inactive entries skipped\n\n",
		a.Entries, a.Subjects, a.Bindings, a.Inactive)
	if len(a.Allowed) == 0 {
		b.WriteString("no mapped IAM principal is allowed\n")
	} else {
		printWhoCanRows(&b, a.Allowed)
	}
	if len(a.Possible) > 0 {
		b.WriteString("\npossible, not confirmed (a templated username could match a user binding):\n")
		printWhoCanRows(&b, a.Possible)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func printWhoCanRows(b *strings.Builder, rows []whoCanRow) {
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINCIPAL\tKIND\tUSERNAME\tGROUPS\tVIA\tORIGIN")
	for _, r := range rows {
		user := r.Username
		if !r.UsernameFixed {
			user += " (groups only)"
		}
		via := strings.Join(r.Via, "; ")
		if via == "" {
			via = "(authorizer: " + r.Reason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s %s\n", r.Principal, r.Kind, user, groupList(r.Groups), via, r.Backend, r.Origin)
	}
	_ = tw.Flush()
}
