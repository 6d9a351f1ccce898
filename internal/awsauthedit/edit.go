// Package awsauthedit edits one aws-auth section (the YAML or JSON text of
// mapRoles, mapUsers, mapGroups or mapAccounts) by splicing text: it adds,
// replaces or removes one entry and leaves every other byte alone, so
// comments, order, blank lines, quoting, indentation and the block or flow
// style a person or a tool chose survive the edit. Re-encoding the list, as
// aws-iam-authenticator's own `add` does, loses all of that.
//
// Entries are located with the yaml.v3 node tree (lines and columns); the
// text between them is never re-rendered. Every edit is checked before it
// is returned: the result is parsed again with the server's parser and must
// hold exactly the entries it held before, minus the removed ones, plus the
// added one, or the edit is refused.
package awsauthedit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
)

// ErrNotList is returned for a section whose value is not a list.
var ErrNotList = errors.New("is not a list")

// Add appends e to section's text, in the text's own style (a block list
// gets a block entry indented like the last one; a flow or JSON list gets a
// JSON object). Empty text, or text holding only comments, becomes a block
// list in the style eksctl writes.
func Add(section, text string, e mapping.Entry) (string, error) {
	d, err := parse(section, text)
	if err != nil {
		return "", err
	}
	out, err := d.add(e)
	if err != nil {
		return "", err
	}
	return out, verify(section, text, out, nil, &e, -1)
}

// Replace puts e in the place of the entry at index (its position in the
// list, as mapping.Origin.Index counts), keeping the comments above it.
func Replace(section, text string, index int, e mapping.Entry) (string, error) {
	d, err := parse(section, text)
	if err != nil {
		return "", err
	}
	if err := d.checkIndex(index); err != nil {
		return "", err
	}
	if err := d.checkAliases([]int{index}); err != nil {
		return "", err
	}
	out, err := d.replace(index, e)
	if err != nil {
		return "", err
	}
	return out, verify(section, text, out, []int{index}, &e, index)
}

// Remove deletes the entries at indexes, with the comment lines directly
// above each (a comment separated from the entry by a blank line stays). An entry that defines an anchor another entry
// aliases is refused: removing it would change the other entry.
func Remove(section, text string, indexes []int) (string, error) {
	d, err := parse(section, text)
	if err != nil {
		return "", err
	}
	idx := slices.Clone(indexes)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		if err := d.checkIndex(i); err != nil {
			return "", err
		}
	}
	if err := d.checkAliases(idx); err != nil {
		return "", err
	}
	var out string
	if d.flow() {
		out, err = d.removeFlow(idx)
	} else {
		out = d.removeBlock(idx)
	}
	if err != nil {
		return "", err
	}
	return out, verify(section, text, out, idx, nil, -1)
}

// doc is a parsed section text.
type doc struct {
	section string
	src     string
	nl      string // the text's line ending
	starts  []int  // byte offset of each line's start
	seq     *yaml.Node
	root    *yaml.Node // the document node
}

func parse(section, text string) (*doc, error) {
	d := &doc{section: section, src: text, nl: "\n"}
	if strings.Contains(text, "\r\n") {
		d.nl = "\r\n"
	}
	if strings.ContainsAny(strings.ReplaceAll(text, "\r\n", ""), "\r\u0085\u2028\u2029") {
		return nil, fmt.Errorf("%s has line breaks other than LF and CRLF; edit it by hand", section)
	}
	d.starts = []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' && i+1 < len(text) {
			d.starts = append(d.starts, i+1)
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		return nil, fmt.Errorf("%s does not parse, so it cannot be edited safely; fix it first (iamgate lint shows where): %w", section, err)
	}
	d.root = &root
	if len(root.Content) == 0 {
		return d, nil
	}
	n := root.Content[0]
	if n.Kind == yaml.AliasNode {
		return nil, fmt.Errorf("%s %w (it is an alias); edit it by hand", section, ErrNotList)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return d, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s %w (line %d holds a %s); aws-iam-authenticator ignores the whole section: fix it first", section, ErrNotList, n.Line, kindName(n))
	}
	d.seq = n
	return d, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "node"
}

func (d *doc) items() []*yaml.Node {
	if d.seq == nil {
		return nil
	}
	return d.seq.Content
}

func (d *doc) flow() bool { return d.seq != nil && d.seq.Style&yaml.FlowStyle != 0 }

func (d *doc) checkIndex(i int) error {
	if i < 0 || i >= len(d.items()) {
		return fmt.Errorf("%s has no entry %d", d.section, i)
	}
	return nil
}

// offset turns a node's 1-based line and column (yaml.v3 counts columns in
// characters) into a byte offset in the text.
func (d *doc) offset(line, col int) int {
	if line < 1 || line > len(d.starts) {
		return len(d.src)
	}
	off := d.starts[line-1]
	for c := 1; c < col && off < len(d.src); c++ {
		_, w := decodeRune(d.src[off:])
		off += w
	}
	return off
}

// line returns line l (1-based) without its line ending.
func (d *doc) line(l int) string {
	s := d.starts[l-1]
	e := len(d.src)
	if l < len(d.starts) {
		e = d.starts[l]
	}
	return strings.TrimRight(d.src[s:e], "\r\n")
}

func (d *doc) lineCount() int {
	if d.src == "" {
		return 0
	}
	return len(d.starts)
}
