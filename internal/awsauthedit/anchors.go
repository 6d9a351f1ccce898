package awsauthedit

import (
	"fmt"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// checkAliases refuses to change entries idx when one of them (or a node
// inside one) defines an anchor that a node outside them aliases:
// removing or rewriting it would change, or break, the entry using it.
func (d *doc) checkAliases(idx []int) error {
	inside := map[*yaml.Node]int{} // node → index of the entry holding it
	for _, i := range idx {
		walk(d.items()[i], func(n *yaml.Node) { inside[n] = i })
	}
	var err error
	var visit func(n *yaml.Node, in bool)
	visit = func(n *yaml.Node, in bool) {
		if err != nil {
			return
		}
		if _, ok := inside[n]; ok {
			in = true
		}
		if n.Kind == yaml.AliasNode && !in {
			if i, ok := inside[n.Alias]; ok {
				err = fmt.Errorf("%s[%d] (line %d) defines the anchor &%s that line %d uses (*%s); "+
					"removing or replacing it would change that entry too: edit the list by hand",
					d.section, i, d.items()[i].Line, n.Alias.Anchor, n.Line, n.Value)
			}
			return
		}
		for _, c := range n.Content {
			visit(c, in)
		}
	}
	visit(d.root, false)
	return err
}

// walk visits n and every node below it (not following aliases).
func walk(n *yaml.Node, f func(*yaml.Node)) {
	f(n)
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, c := range n.Content {
		walk(c, f)
	}
}
