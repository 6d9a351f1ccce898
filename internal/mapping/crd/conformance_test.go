package crd

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// testConformance runs the whole suite: each case's entries become
// objects, created in entry order (names sort the same way), so "the last
// of two entries wins" holds: a second entry for one principal (valid or
// not) waits for the next second, since of two objects created in one
// second neither is newer (tie_test.go). Two valid entries for one pattern
// are the exception: aws-auth has no last one of those (it refuses the
// pair), and created in one second the CRD denies the pattern instead. The
// format has no mapAccounts and no sso blocks.
func testConformance(t *testing.T, dyn dynamic.Interface) {
	n := 0
	conformance.Run(t, func(t *testing.T, entries []mapping.Entry, opts rules.Options) (mapping.Mapper, error) {
		var names []string
		for attempt := 1; ; attempt++ {
			n++
			var together [][2]string
			names, together = createInOrder(t, dyn, n, entries, opts)
			if sameSecond(t, dyn, together) {
				break
			}
			if attempt == 5 {
				t.Fatalf("objects meant to be created in one second straddled a second %d times", attempt)
			}
		}
		if opts.Logger == nil {
			opts.Logger = slog.New(slog.DiscardHandler)
		}
		b := start(t, dyn, Options{Mapping: opts})
		waitObjects(t, b, names...)
		return b, nil
	}, conformance.Capabilities{NoAccounts: true, NoSSO: true})
}

// createInOrder replaces every object with one per entry, named case<n>-<i>,
// and returns their names and the pairs that must share their creation
// second (two valid entries for one pattern).
func createInOrder(t *testing.T, dyn dynamic.Interface, n int, entries []mapping.Entry, opts rules.Options) (names []string, together [][2]string) {
	t.Helper()
	deleteAll(t, dyn)
	objs := make([]*unstructured.Unstructured, len(entries))
	keys := make([]string, len(entries))
	patterns := make([]bool, len(entries))
	pairs := false
	last := map[string]int{}
	for i, m := range entries {
		objs[i] = object(fmt.Sprintf("case%04d-%04d", n, i), m.ARN, m.Username, m.Groups, m.UserID)
		keys[i], patterns[i] = keyOf(objs[i], opts)
		if j, ok := last[keys[i]]; ok && keys[i] != "" && patterns[i] && patterns[j] {
			pairs = true
		}
		if keys[i] != "" {
			last[keys[i]] = i
		}
	}
	if pairs {
		// Start at the top of a second, so the pair likely shares it.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	}
	clear(last)
	for i, o := range objs {
		if j, ok := last[keys[i]]; ok && keys[i] != "" {
			if patterns[i] && patterns[j] {
				together = append(together, [2]string{objs[j].GetName(), o.GetName()})
			} else {
				time.Sleep(1100 * time.Millisecond) // creationTimestamp has one-second resolution
			}
		}
		if keys[i] != "" {
			last[keys[i]] = i
		}
		create(t, dyn, o)
		names = append(names, o.GetName())
	}
	return names, together
}

// sameSecond reports whether each pair of objects has one creationTimestamp.
func sameSecond(t *testing.T, dyn dynamic.Interface, pairs [][2]string) bool {
	t.Helper()
	for _, p := range pairs {
		if createdAt(get(t, dyn, p[0])) != createdAt(get(t, dyn, p[1])) {
			return false
		}
	}
	return true
}

// keyOf is the principal or pattern o maps (or, invalid, denies), as the
// backend files it, "" when it names none, and whether o is a valid
// pattern.
func keyOf(o *unstructured.Unstructured, opts rules.Options) (string, bool) {
	e, err := evaluate(o, opts)
	if err == nil {
		return e.key, !e.exact && e.section != mapping.SectionGroups
	}
	if p, ok := placeholder(o, err); ok {
		return p.key, false
	}
	return "", false
}
