package lint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// shadowedEarlier reports exact role and user entries that never apply
// because a backend the server asks first already decides for that
// principal (maps it, or denies it with an error). It asks those backends
// with the identity the principal would present.
func shadowedEarlier(t *rules.Table, earlier []mapping.Mapper, infos map[infoKey]*entryInfo) []Finding {
	if t == nil || len(earlier) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []Finding
	for _, l := range t.Entries() {
		if !l.Active {
			continue
		}
		e := l.Entry
		id, ok := identityOf(e)
		if !ok {
			continue
		}
		for _, m := range earlier {
			_, err := m.Map(ctx, id)
			if errors.Is(err, mapping.ErrNotMapped) {
				continue
			}
			line := infos[infoKey{e.Origin.Section, e.Origin.Index}].lineOf(arnKey(e), "arn")
			if line == 0 {
				line = e.Origin.Line
			}
			f := Finding{Severity: Warning, Rule: "shadowed-by-backend", File: e.Origin.File, Line: line,
				Section: e.Origin.Section, Index: e.Origin.Index,
				Message: fmt.Sprintf("%s is already decided by the %s backend, which the server asks first, so this entry never applies; remove it here or there", e.ARN, m.Name())}
			if f.File == "" {
				f.Object = e.Origin.Object
			}
			out = append(out, f)
			break
		}
	}
	return out
}

// identityOf is the identity STS would report for the principal an exact
// role or user entry names.
func identityOf(e mapping.Entry) (mapping.Identity, bool) {
	if strings.Contains(e.ARN, "*") || (e.Kind != mapping.KindRole && e.Kind != mapping.KindUser) {
		return mapping.Identity{}, false
	}
	a, err := arn.Parse(e.ARN)
	if err != nil {
		return mapping.Identity{}, false
	}
	c := a.Canonical()
	if c.Type == arn.TypeRole {
		c.Path = "/"
		sess := arn.ARN{Partition: a.Partition, Service: "sts", AccountID: a.AccountID, Type: arn.TypeAssumedRole, Name: a.Name, SessionName: "iamgate-lint"}
		return mapping.Identity{ARN: sess.String(), CanonicalARN: c.String(), AccountID: a.AccountID,
			SessionName: "iamgate-lint", UserID: "AROALINT:iamgate-lint", AccessKeyID: "ASIALINT"}, true
	}
	return mapping.Identity{ARN: c.String(), CanonicalARN: c.String(), AccountID: a.AccountID, UserID: "AIDALINT", AccessKeyID: "AKIALINT"}, true
}
