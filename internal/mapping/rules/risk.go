package rules

import (
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Risks describes what in an entry that loads is likely a mistake: not
// refused (aws-iam-authenticator loads it too, and some clusters rely on
// it), but worth a warning at load that names the entry.
func Risks(e mapping.Entry) []string {
	if e.Kind == mapping.KindAccount || e.Refused != nil {
		return nil
	}
	var out []string
	switch strings.TrimSpace(e.Username) {
	case "{{" + VarSessionName + "}}", "{{" + VarSessionNameRaw + "}}":
		out = append(out, "username "+e.Username+" is only the session name, which whoever assumes the role picks: "+
			"they choose their own Kubernetes username; put literal text first (e.g. dev:{{SessionName}})")
	}
	if e.Kind == mapping.KindUser || e.Kind == mapping.KindGroup {
		for _, f := range append([]string{e.Username}, e.Groups...) {
			if strings.Contains(f, "{{"+VarSessionName+"}}") || strings.Contains(f, "{{"+VarSessionNameRaw+"}}") {
				out = append(out, "IAM users have no session, so "+f+" renders without one (empty username: review denied)")
				break
			}
		}
	}
	return out
}

// warnRisks logs each entry's Risks once, at build.
func (t *Table) warnRisks(e mapping.Entry) {
	for _, r := range Risks(e) {
		t.log.Warn("risky mapping entry", "backend", t.name, "entry", e.Origin.String(), "names", e.Names(), "risk", r)
	}
}
