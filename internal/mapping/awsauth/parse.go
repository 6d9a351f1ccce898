package awsauth

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Field names. Keys are matched ignoring ASCII case, as aws-iam-authenticator
// does ("roleARN", "RoleArn" and "rolearn" are one key).
const (
	keyRoleARN  = "rolearn"
	keyUserARN  = "userarn"
	keyGroupARN = "grouparn"
	keyUsername = "username"
	keyGroups   = "groups"
	keyUserID   = "userid"
	keySSO      = "sso"
)

// parseAccounts reads a mapAccounts sequence of 12-digit account IDs,
// given as strings or as plain YAML integers. Duplicates are dropped.
func parseAccounts(n *yaml.Node) ([]mapping.Entry, []problem) {
	var out []mapping.Entry
	seen := map[string]bool{}
	probs := eachEntry(mapping.SectionAccounts, n, nil, func(i int, e *yaml.Node) *problem {
		if e.Kind != yaml.ScalarNode {
			return entryProblem(mapping.SectionAccounts, i, e.Line, errors.New("must be a 12-digit account ID"))
		}
		switch e.ShortTag() {
		case "!!str", "!!int", "!!float": // a leading zero can make YAML read 12 digits as a float
		default:
			return entryProblem(mapping.SectionAccounts, i, e.Line, fmt.Errorf("must be a 12-digit account ID, got %s", e.ShortTag()))
		}
		if !arn.IsAccountID(e.Value) {
			return entryProblem(mapping.SectionAccounts, i, e.Line, fmt.Errorf("%q is not a 12-digit account ID", e.Value))
		}
		if !seen[e.Value] {
			seen[e.Value] = true
			out = append(out, mapping.Entry{Kind: mapping.KindAccount, Account: e.Value,
				Origin: mapping.Origin{Section: mapping.SectionAccounts, Index: i, Line: e.Line}})
		}
		return nil
	})
	return out, probs
}

// decodeYAML decodes exactly one YAML document; empty input gives a nil node.
func decodeYAML(section string, data []byte) (*yaml.Node, *problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, &problem{Section: section, Index: -1, Err: fmt.Errorf("invalid YAML: %w", err), Fatal: true}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &problem{Section: section, Index: -1, Line: extra.Line,
			Err: errors.New("more than one YAML document"), Fatal: true}
	}
	return &doc, nil
}

// eachEntry walks a sequence node, calling fn for every (alias-resolved)
// element and collecting the problems it reports. Once x (nil for sections
// without merge keys) has spent its budget, the walk stops and the whole
// section is refused with one fatal problem: the caller must then drop
// what fn collected. With x, a section that expands too far through
// aliases, or has an alias cycle, is refused before any entry is read
// (checkExpansion).
func eachEntry(section string, n *yaml.Node, x *expander, fn func(i int, e *yaml.Node) *problem) []problem {
	n = resolve(n)
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = resolve(n.Content[0])
	}
	if n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return []problem{{Section: section, Index: -1, Line: n.Line, Fatal: true,
			Err: fmt.Errorf("must be a list, got %s", kindName(n))}}
	}
	if x != nil && len(n.Content) > maxEntries {
		x.exceeded = true
		return []problem{{Section: section, Index: -1, Line: n.Line, Fatal: true,
			Err: fmt.Errorf("has %d entries, more than the limit %d", len(n.Content), maxEntries)}}
	}
	if x != nil {
		if p := checkExpansion(section, n, x.budget); p != nil {
			x.exceeded = true
			return []problem{*p}
		}
	}
	var probs []problem
	for i, e := range n.Content {
		e = resolve(e)
		if e == nil {
			probs = append(probs, problem{Section: section, Index: i, Err: errors.New("empty entry")})
			continue
		}
		if p := fn(i, e); p != nil {
			probs = append(probs, *p)
		}
		if x != nil && x.exceeded {
			return []problem{{Section: section, Index: -1, Line: e.Line, Fatal: true,
				Err: fmt.Errorf("entry %d: %w", i, x.errTooFar())}}
		}
	}
	return probs
}

// readEntry reads one mapRoles/mapUsers/mapGroups mapping, merge keys
// applied (x.fields). Any unknown or repeated key or wrongly typed value
// rejects the whole entry: guessing what a malformed entry meant could grant
// access nobody intended. allowSSO admits an "sso" block instead of arnKey
// (mapRoles only).
func readEntry(section string, i int, e *yaml.Node, arnKey string, allowSSO bool, x *expander) (entryFields, *problem) {
	f := entryFields{line: e.Line}
	if e.Kind != yaml.MappingNode {
		return f, entryProblem(section, i, e.Line, fmt.Errorf("entry must be a mapping, got %s", kindName(e)))
	}
	fs, line, err := x.fields(e)
	if err != nil {
		return f, entryProblem(section, i, line, err)
	}
	seen := map[string]bool{}
	for _, fl := range fs {
		k, v, name := fl.key, fl.val, fl.name
		switch name {
		case arnKey, keyUsername, keyGroups, keyUserID:
		case keySSO:
			if !allowSSO {
				return f, entryProblem(section, i, k.Line, fl.wrap(fmt.Errorf("%q is only allowed in %s", k.Value, mapping.SectionRoles)))
			}
		default:
			return f, entryProblem(section, i, k.Line, fl.wrap(fmt.Errorf("unknown field %q", k.Value)))
		}
		seen[name] = true
		switch name {
		case keyGroups:
			gs, line, err := readStrings(v)
			if err != nil {
				return f, entryProblem(section, i, line, fl.wrap(fmt.Errorf("%s: %w", k.Value, err)))
			}
			f.groups, f.groupsLine = gs, v.Line
			continue
		case keySSO:
			sso, line, err := readSSO(v, x)
			if err != nil {
				return f, entryProblem(section, i, line, fl.wrap(fmt.Errorf("%s: %w", k.Value, err)))
			}
			f.sso, f.ssoLine = sso, v.Line
			continue
		}
		s, err := readString(v)
		if err != nil {
			return f, entryProblem(section, i, v.Line, fl.wrap(fmt.Errorf("%s: %w", k.Value, err)))
		}
		switch name {
		case arnKey:
			f.arn, f.arnLine = s, v.Line
		case keyUsername:
			f.username, f.usernameLine = s, v.Line
		case keyUserID:
			if s == "" {
				return f, entryProblem(section, i, v.Line, fl.wrap(fmt.Errorf("%s is empty", k.Value)))
			}
			f.userID, f.userIDLine = s, v.Line
		}
	}
	switch {
	case seen[arnKey] && seen[keySSO]:
		return f, entryProblem(section, i, f.ssoLine, fmt.Errorf("give %s or sso, not both", arnKey))
	case !seen[arnKey] && !seen[keySSO] && allowSSO:
		return f, entryProblem(section, i, e.Line, fmt.Errorf("missing %s (or sso)", arnKey))
	case !seen[arnKey] && !seen[keySSO]:
		return f, entryProblem(section, i, e.Line, fmt.Errorf("missing %s", arnKey))
	}
	if !seen[keyUsername] {
		return f, entryProblem(section, i, e.Line, errors.New("missing username"))
	}
	return f, nil
}

func readString(v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		return "", fmt.Errorf("must be a string, got %s", kindName(v))
	}
	return v.Value, nil
}

// readStrings reads a list of strings; null means no groups. On error it
// also returns the line of the offending node.
func readStrings(v *yaml.Node) ([]string, int, error) {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil, 0, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, v.Line, fmt.Errorf("must be a list of strings, got %s", kindName(v))
	}
	out := make([]string, 0, len(v.Content))
	for j, g := range v.Content {
		g = resolve(g)
		if g == nil {
			return nil, v.Line, fmt.Errorf("[%d] is empty", j)
		}
		s, err := readString(g)
		if err != nil {
			return nil, g.Line, fmt.Errorf("[%d] %w", j, err)
		}
		out = append(out, s)
	}
	return out, 0, nil
}

func entryProblem(section string, i, line int, err error) *problem {
	return &problem{Section: section, Index: i, Line: line, Err: err, Fatal: rules.IsFatal(err)}
}

// problem is a Problem before Source places it.
type problem struct {
	Section     string
	Index, Line int
	Err         error
	Fatal       bool
	Names       string
}

// resolve follows an alias to its anchored node. Anchors cannot sit on
// aliases, so one step is enough and expansion stays linear.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.ShortTag()
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	default:
		return "nothing"
	}
}
