package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/rbacview"
)

// explainReport is everything explain prints; -o json writes it as is.
type explainReport struct {
	Identity explainIdentity `json:"identity"`
	Backends []backendView   `json:"backends"`
	Decision decisionView    `json:"decision"`
	RBAC     *explainRBAC    `json:"rbac,omitempty"`
}

type explainIdentity struct {
	ARN          string `json:"arn"`
	CanonicalARN string `json:"canonicalArn"`
	AccountID    string `json:"accountID"`
	UserID       string `json:"userID,omitempty"`
	SessionName  string `json:"sessionName,omitempty"`
	AccessKeyID  string `json:"accessKeyID,omitempty"`
	Note         string `json:"note,omitempty"`
}

type backendView struct {
	Backend string     `json:"backend"`
	Steps   []stepView `json:"steps"`
	Winner  *entryView `json:"winner,omitempty"`
	// Outcome is "mapped", "not mapped" (the next backend is asked) or
	// "denied: REASON" (no later backend is asked).
	Outcome string `json:"outcome"`
}

type stepView struct {
	Verdict mapping.Verdict `json:"verdict"`
	Entry   entryView       `json:"entry"`
	Detail  string          `json:"detail,omitempty"`
}

type entryView struct {
	Kind     string   `json:"kind"`
	Names    string   `json:"names"`
	Username string   `json:"username,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	UserID   string   `json:"userid,omitempty"`
	Origin   string   `json:"origin"`
	Backend  string   `json:"backend,omitempty"`
	Object   string   `json:"object,omitempty"`
	Section  string   `json:"section,omitempty"`
	Index    int      `json:"index"`
	Line     int      `json:"line,omitempty"`
	File     string   `json:"file,omitempty"`
}

// decisionView is what a TokenReview returns: authenticated with the
// username and groups, or not, with the reason the server logs.
type decisionView struct {
	Authenticated bool     `json:"authenticated"`
	Username      string   `json:"username,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	Source        string   `json:"source,omitempty"`
	Denied        string   `json:"denied,omitempty"`
}

type explainRBAC struct {
	Cluster      string        `json:"cluster"`
	Unrestricted bool          `json:"unrestricted"`
	Bindings     []bindingView `json:"bindings"`
	Access       *accessAnswer `json:"access,omitempty"`
}

type bindingView struct {
	Binding     string   `json:"binding"`
	Role        string   `json:"role"`
	Scope       string   `json:"scope"`
	Via         string   `json:"via"`
	Rules       []string `json:"rules,omitempty"`
	RoleMissing bool     `json:"roleMissing,omitempty"`
	Aggregated  bool     `json:"aggregated,omitempty"`
}

// accessAnswer is the authorizer's answer for one request, and the
// bindings that grant it.
type accessAnswer struct {
	Request   string            `json:"request"`
	Decision  rbacview.Decision `json:"decision"`
	GrantedBy []string          `json:"grantedBy,omitempty"`
}

func entryViewOf(e mapping.Entry) entryView {
	o := e.Origin
	return entryView{Kind: e.Kind.String(), Names: e.Names(), Username: e.Username, Groups: e.Groups, UserID: e.UserID,
		Origin: o.String(), Backend: o.Backend, Object: o.Object, Section: o.Section, Index: o.Index, Line: o.Line, File: o.File}
}

func newExplainReport(tr mapping.Trace, note string) *explainReport {
	id := tr.Identity
	r := &explainReport{Identity: explainIdentity{ARN: id.ARN, CanonicalARN: id.CanonicalARN, AccountID: id.AccountID,
		UserID: id.UserID, SessionName: id.SessionName, AccessKeyID: id.AccessKeyID, Note: note}}
	for _, bt := range tr.Backends {
		bv := backendView{Backend: bt.Backend, Steps: []stepView{}, Outcome: outcome(bt.Result, bt.Err)}
		for _, s := range bt.Steps {
			bv.Steps = append(bv.Steps, stepView{Verdict: s.Verdict, Entry: entryViewOf(s.Entry), Detail: trimDetail(s.Detail)})
		}
		if bt.Winner != nil {
			w := entryViewOf(*bt.Winner)
			bv.Winner = &w
		}
		r.Backends = append(r.Backends, bv)
	}
	if tr.Err == nil && tr.Result != nil {
		r.Decision = decisionView{Authenticated: true, Username: tr.Result.Username, Groups: tr.Result.Groups, Source: tr.Result.Source}
		if r.Decision.Groups == nil {
			r.Decision.Groups = []string{}
		}
	} else {
		r.Decision = decisionView{Denied: outcome(nil, tr.Err)}
	}
	return r
}

func outcome(res *mapping.Result, err error) string {
	switch {
	case err == nil && res != nil:
		return "mapped"
	case errors.Is(err, mapping.ErrNotMapped):
		return "not mapped"
	case err != nil:
		return "denied: " + err.Error()
	}
	return "denied: no result"
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (r *explainReport) print(w io.Writer) error {
	var b strings.Builder
	id := r.Identity
	b.WriteString("identity (as STS reports it)\n")
	fmt.Fprintf(&b, "  arn:          %s\n  canonicalArn: %s\n  account:      %s\n", id.ARN, id.CanonicalARN, id.AccountID)
	if id.SessionName != "" {
		fmt.Fprintf(&b, "  session:      %s\n", id.SessionName)
	}
	fmt.Fprintf(&b, "  userID:       %s\n", orNone(id.UserID, "(not given: entries pinned to a userid will not match; --user-id)"))
	if id.AccessKeyID != "" {
		fmt.Fprintf(&b, "  accessKeyID:  %s\n", id.AccessKeyID)
	}
	if id.Note != "" {
		fmt.Fprintf(&b, "  note:         %s\n", id.Note)
	}
	for _, bv := range r.Backends {
		fmt.Fprintf(&b, "\nbackend %s: %s\n", bv.Backend, bv.Outcome)
		if len(bv.Steps) == 0 {
			b.WriteString("  no entry concerns this principal\n")
		}
		for _, s := range bv.Steps {
			fmt.Fprintf(&b, "  %-22s %s  %s\n", s.Verdict, s.Entry.Origin, s.Entry.Names)
			if s.Entry.Username != "" || len(s.Entry.Groups) > 0 {
				fmt.Fprintf(&b, "  %-22s   -> %s %s\n", "", s.Entry.Username, groupList(s.Entry.Groups))
			}
			if s.Detail != "" {
				fmt.Fprintf(&b, "  %-22s   %s\n", "", s.Detail)
			}
		}
		if bv.Winner != nil {
			fmt.Fprintf(&b, "  winner: %s (%s)\n", bv.Winner.Origin, bv.Winner.Names)
		}
	}
	b.WriteString("\ndecision (what a TokenReview returns)\n")
	d := r.Decision
	if d.Authenticated {
		fmt.Fprintf(&b, "  authenticated: true\n  username:      %s\n  groups:        %s\n  source:        %s\n", d.Username, groupList(d.Groups), d.Source)
	} else {
		fmt.Fprintf(&b, "  authenticated: false (%s)\n", d.Denied)
		b.WriteString("  the apiserver answers 401 Unauthorized; see the entries above for the nearest misses\n")
	}
	if r.RBAC != nil {
		r.RBAC.print(&b)
	} else if d.Authenticated {
		b.WriteString("\nRBAC: not read (pass --kubeconfig or set $KUBECONFIG)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (v *explainRBAC) print(b *strings.Builder) {
	fmt.Fprintf(b, "\nRBAC (%s)\n", v.Cluster)
	if v.Unrestricted {
		b.WriteString("  system:masters: UNRESTRICTED, the apiserver allows every request whatever RBAC says\n")
	}
	if len(v.Bindings) == 0 {
		b.WriteString("  no RoleBinding or ClusterRoleBinding names this username or its groups\n")
	}
	for _, bv := range v.Bindings {
		fmt.Fprintf(b, "  %s -> %s (%s) via %s\n", bv.Binding, bv.Role, bv.Scope, bv.Via)
		switch {
		case bv.RoleMissing:
			b.WriteString("      role does not exist: grants nothing\n")
		case len(bv.Rules) == 0:
			b.WriteString("      no rules\n")
		}
		for _, rl := range bv.Rules {
			fmt.Fprintf(b, "      %s\n", rl)
		}
	}
	if a := v.Access; a != nil {
		verdict := "no"
		if a.Decision.Allowed {
			verdict = "yes"
		}
		fmt.Fprintf(b, "\n  may %s? %s (the apiserver's SubjectAccessReview)\n", a.Request, verdict)
		if a.Decision.Reason != "" {
			fmt.Fprintf(b, "      reason: %s\n", a.Decision.Reason)
		}
		if a.Decision.Error != "" {
			fmt.Fprintf(b, "      evaluation error: %s\n", a.Decision.Error)
		}
		if len(a.GrantedBy) > 0 {
			fmt.Fprintf(b, "      granted by: %s\n", strings.Join(a.GrantedBy, ", "))
		}
	}
}

func groupList(gs []string) string { return "[" + strings.Join(gs, ", ") + "]" }

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
