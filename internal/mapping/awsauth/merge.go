package awsauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// YAML merge keys ("<<: *anchor"), as aws-iam-authenticator honours them:
// it reads aws-auth through yaml.v2, and its config file through yaml.v3.
// The value of "<<" is a mapping, an alias to one, or a list of those; keys
// written in the mapping override merged ones, and in a list earlier
// mappings win over later ones. Merged mappings may merge in turn.
//
// The two YAML libraries disagree in two corners, which are refused here
// rather than guessed at: yaml.v2 applies "<<" where it is written, so a key
// written before it is overridden by a merged one (yaml.v3 keeps the written
// key), and yaml.v3 uses only the last of several "<<" keys in a mapping.
// Keys that differ only in case are one key here but two to those
// libraries, which then leave the choice between them to JSON key order: a
// merged key may not differ in case from the key it meets either.
//
// The parser does not expand aliases, so merging does: a few lines of
// nested aliases can stand for billions of keys. The work is bounded per
// section (maxMergeWork, maxMergeDepth); going over it rejects the section.

const (
	mergeKey = "<<"
	// maxMergeWork bounds the merged mappings and keys visited in one
	// section, or mergeWorkPerNode times the nodes the section is written
	// with if that is more: a real section merges a few keys per entry,
	// while nested aliases multiply.
	maxMergeWork     = 1 << 18
	mergeWorkPerNode = 16
	// maxMergeDepth bounds how deeply merged mappings may merge in turn;
	// going deeper also rejects the section.
	maxMergeDepth = 32
)

// expander applies merge keys, counting the work against maxMergeWork. One
// expander serves one section; once it is exhausted, the section is
// rejected (eachEntry).
type expander struct {
	budget, left int
	exceeded     bool
}

// newExpander returns the expander for the section n.
func newExpander(n *yaml.Node) *expander {
	b := max(maxMergeWork, mergeWorkPerNode*countNodes(n))
	return &expander{budget: b, left: b}
}

// countNodes counts the nodes of the tree n as written: aliases count once
// and are not followed.
func countNodes(n *yaml.Node) int {
	count := 0
	for todo := []*yaml.Node{n}; len(todo) > 0; {
		c := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if c == nil {
			continue
		}
		count++
		if c.Kind != yaml.AliasNode {
			todo = append(todo, c.Content...)
		}
	}
	return count
}

// spend takes the cost of visiting mapping m from the budget and reports
// whether it was still within it.
func (x *expander) spend(m *yaml.Node) bool {
	x.left -= 1 + len(m.Content)/2
	if x.left < 0 {
		x.exceeded = true
	}
	return !x.exceeded
}

// errTooFar is the error for a section that went over the budget.
func (x *expander) errTooFar() error {
	return rules.Fatalf("merge keys expand too far (nested aliases?): more than %d merged fields in the section or %d levels deep",
		x.budget, maxMergeDepth)
}

// yamlField is one key of a mapping after merge keys are applied.
type yamlField struct {
	key, val *yaml.Node // alias-resolved
	name     string     // the key, lower-cased
	// merged is the line of the outermost "<<" that brought the field in,
	// 0 for a key written in the mapping itself.
	merged int
	// early marks a key written before the mapping's "<<".
	early bool
}

// wrap adds to err where a merged field came from.
func (f yamlField) wrap(err error) error {
	if f.merged == 0 {
		return err
	}
	return fmt.Errorf("%w (merged in by %q on line %d)", err, mergeKey, f.merged)
}

// isMergeKey reports whether k (as written, not through an alias) is the
// merge key: a plain or !!merge-tagged "<<". A quoted "<<" is an ordinary
// key, and so an unknown field.
func isMergeKey(k *yaml.Node) bool {
	return k != nil && k.Kind == yaml.ScalarNode && k.Value == mergeKey && k.ShortTag() == "!!merge"
}

// fields returns the keys of mapping m with merge keys applied, in order:
// written keys first, then merged ones. A key given twice (ignoring case),
// a malformed merge value, a merge that refers to itself, and the corners
// the YAML libraries disagree on are errors; on error fields also returns
// the line of the offending node.
func (x *expander) fields(m *yaml.Node) ([]yamlField, int, error) {
	return x.fieldsIn(m, nil)
}

func (x *expander) fieldsIn(m *yaml.Node, stack []*yaml.Node) ([]yamlField, int, error) {
	if slices.Contains(stack, m) {
		return nil, m.Line, fmt.Errorf("%q merges a mapping into itself", mergeKey)
	}
	if len(stack) >= maxMergeDepth {
		x.exceeded = true
		return nil, m.Line, x.errTooFar()
	}
	stack = append(stack, m)
	var out []yamlField
	at := map[string]int{} // name -> index in out
	var merge, mkey *yaml.Node
	for j := 0; j+1 < len(m.Content); j += 2 {
		rawK := m.Content[j]
		k, v := resolve(rawK), resolve(m.Content[j+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode {
			return nil, m.Line, errors.New("field names must be strings")
		}
		if isMergeKey(rawK) {
			if merge != nil {
				return nil, k.Line, fmt.Errorf("merge key %q given more than once", mergeKey)
			}
			merge, mkey = m.Content[j+1], k
			continue
		}
		if !isASCII(k.Value) {
			// encoding/json (AIA) would fold it to a field name; refuse it
			// rather than guess (fold.go).
			return nil, k.Line, fmt.Errorf("field name %+q is not plain ASCII; spell field names in ASCII", k.Value)
		}
		name := strings.ToLower(k.Value)
		if _, dup := at[name]; dup {
			return nil, k.Line, fmt.Errorf("field %q given more than once", k.Value)
		}
		at[name] = len(out)
		out = append(out, yamlField{key: k, val: v, name: name, early: merge == nil})
	}
	if merge == nil {
		return out, 0, nil
	}
	srcs, line, err := mergeSources(merge)
	if err != nil {
		return nil, line, err
	}
	for _, src := range srcs {
		if !x.spend(src) {
			return nil, mkey.Line, x.errTooFar()
		}
		sub, line, err := x.fieldsIn(src, stack)
		if err != nil {
			if len(stack) == 1 && !rules.IsFatal(err) { // say which "<<" of the entry
				err = fmt.Errorf("%w (merged in by %q on line %d)", err, mergeKey, mkey.Line)
			}
			return nil, line, err
		}
		for _, f := range sub {
			f.merged, f.early = mkey.Line, false
			i, taken := at[f.name]
			if !taken {
				at[f.name] = len(out)
				out = append(out, f)
				continue
			}
			g := out[i]
			switch {
			case g.key.Value != f.key.Value:
				line := f.key.Line
				if g.merged == 0 {
					line = g.key.Line
				}
				return nil, line, f.wrap(fmt.Errorf("fields %q and %q differ only in case; spell them alike", g.key.Value, f.key.Value))
			case g.early:
				return nil, g.key.Line, fmt.Errorf("field %q comes before %q, which merges it in too; put %q first", g.key.Value, mergeKey, mergeKey)
			}
			// A key written after "<<", or merged from an earlier mapping
			// of the list, wins.
		}
	}
	return out, 0, nil
}

// mergeSources returns the mappings the value of a merge key names: a
// mapping, an alias to one, or a list of those (not an alias to a list).
func mergeSources(v *yaml.Node) ([]*yaml.Node, int, error) {
	one := func(n *yaml.Node) *yaml.Node {
		if r := resolve(n); r != nil && r.Kind == yaml.MappingNode {
			return r
		}
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode, yaml.AliasNode:
		if m := one(v); m != nil {
			return []*yaml.Node{m}, 0, nil
		}
	case yaml.SequenceNode:
		out := make([]*yaml.Node, 0, len(v.Content))
		for i, c := range v.Content {
			m := one(c)
			if m == nil {
				return nil, c.Line, fmt.Errorf("%s[%d] must be a mapping, got %s", mergeKey, i, kindName(resolveOrSelf(c)))
			}
			out = append(out, m)
		}
		return out, 0, nil
	}
	return nil, v.Line, fmt.Errorf("%s must be a mapping or a list of mappings, got %s", mergeKey, kindName(resolveOrSelf(v)))
}

func resolveOrSelf(n *yaml.Node) *yaml.Node {
	if r := resolve(n); r != nil {
		return r
	}
	return n
}

// salvage returns, for an entry (or sso block) that fields refused, every
// key among those want accepts that m gives directly or through merge
// keys, as far as they can be read: duplicates, every "<<" and every
// mapping a malformed merge value names are followed. A merged key is left
// out only where the YAML libraries agree it is overridden: by a key of the
// same spelling written after every "<<" of the mapping. Key names are
// folded as encoding/json folds them (jsonFoldKey), so "uſerarn" names the
// user it names to aws-iam-authenticator. Work counts
// against the budget; once it is spent, salvage returns what it has and the
// section is rejected anyway.
func (x *expander) salvage(m *yaml.Node, want func(name string) bool) []yamlField {
	return x.salvageIn(m, want, nil)
}

func (x *expander) salvageIn(m *yaml.Node, want func(string) bool, stack []*yaml.Node) []yamlField {
	if m == nil || m.Kind != yaml.MappingNode || slices.Contains(stack, m) {
		return nil
	}
	if len(stack) >= maxMergeDepth {
		x.exceeded = true // what lies deeper is not read: refuse the section
		return nil
	}
	stack = append(stack, m)
	lastMerge := -1
	for j := 0; j+1 < len(m.Content); j += 2 {
		if k := resolve(m.Content[j]); k != nil && k.Kind == yaml.ScalarNode && k.Value == mergeKey {
			lastMerge = j
		}
	}
	var out []yamlField
	override := map[string]bool{}
	had := map[[2]*yaml.Node]bool{} // key/value pairs in out
	for j := 0; j+1 < len(m.Content); j += 2 {
		k, v := resolve(m.Content[j]), resolve(m.Content[j+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode || k.Value == mergeKey {
			continue
		}
		if name := jsonFoldKey(k.Value); want(name) {
			out = append(out, yamlField{key: k, val: v, name: name})
			had[[2]*yaml.Node{k, v}] = true
			if j > lastMerge {
				override[k.Value] = true
			}
		}
	}
	for j := 0; j+1 < len(m.Content); j += 2 {
		if k := resolve(m.Content[j]); k == nil || k.Kind != yaml.ScalarNode || k.Value != mergeKey {
			continue
		}
		v := resolve(m.Content[j+1])
		srcs := []*yaml.Node{v}
		if v != nil && v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, src := range srcs {
			src = resolve(src)
			if src == nil || src.Kind != yaml.MappingNode || !x.spend(src) {
				continue
			}
			for _, f := range x.salvageIn(src, want, stack) {
				if kv := [2]*yaml.Node{f.key, f.val}; !override[f.key.Value] && !had[kv] {
					had[kv] = true // an alias merged twice adds nothing
					out = append(out, f)
				}
			}
		}
	}
	return out
}
