package awsauth

import (
	"fmt"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// Aliases let a few lines stand for a huge section: "- *e" repeats a whole
// entry, "groups: *g" a whole list, and every copy is read, checked and
// kept. Before a section is read, its size with every alias followed is
// computed (once per node, so in time linear in the nodes written); a
// section that expands to more than the expander's budget (maxMergeWork,
// or mergeWorkPerNode times the nodes written) is refused whole, and so is
// one whose aliases form a cycle (an anchored node that contains an alias
// to itself, which the YAML libraries aws-iam-authenticator uses refuse
// too). The number of entries is bounded too (maxEntries).

// maxEntries bounds the entries of a mapRoles, mapUsers or mapGroups
// section. A 1 MB ConfigMap holds about 18,000 entries written out; "- *e"
// lines fit ten times as many.
const maxEntries = 1 << 16

// checkExpansion returns a fatal Problem if the section n expands past
// limit nodes or has an alias cycle, else nil.
func checkExpansion(section string, n *yaml.Node, limit int) *problem {
	type frame struct {
		n   *yaml.Node
		i   int // next child
		sum int // expanded size of the children so far
	}
	// size holds the expanded size of each finished node, -1 while the node
	// is being counted (it is on the stack).
	size := map[*yaml.Node]int{}
	sat := func(a, b int) int { return min(a+b, limit+1) }
	var stack []frame
	enter := func(c *yaml.Node) *problem {
		t := c
		if c.Kind == yaml.AliasNode {
			if t = c.Alias; t == nil {
				stack[len(stack)-1].sum = sat(stack[len(stack)-1].sum, 1)
				return nil
			}
		}
		switch s, seen := size[t]; {
		case seen && s < 0:
			return &problem{Section: section, Index: -1, Line: c.Line, Fatal: true,
				Err: fmt.Errorf("alias *%s refers to a node that contains it", t.Anchor)}
		case seen:
			stack[len(stack)-1].sum = sat(stack[len(stack)-1].sum, s)
		default:
			size[t] = -1
			stack = append(stack, frame{n: t})
		}
		return nil
	}
	if n == nil {
		return nil
	}
	stack = append(stack, frame{}) // collects the root's size
	if p := enter(n); p != nil {
		return p
	}
	for len(stack) > 1 {
		f := &stack[len(stack)-1]
		if f.i < len(f.n.Content) {
			c := f.n.Content[f.i]
			f.i++
			if c == nil {
				continue
			}
			if p := enter(c); p != nil {
				return p
			}
			continue
		}
		total := sat(f.sum, 1)
		size[f.n] = total
		stack = stack[:len(stack)-1]
		stack[len(stack)-1].sum = sat(stack[len(stack)-1].sum, total)
	}
	if total := stack[0].sum; total > limit {
		return &problem{Section: section, Index: -1, Line: n.Line, Fatal: true,
			Err: fmt.Errorf("expands to more than %d YAML nodes through aliases (it is written with %d); repeat less through anchors and aliases",
				limit, countNodes(n))}
	}
	return nil
}
