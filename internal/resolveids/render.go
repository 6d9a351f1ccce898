package resolveids

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// renderText renders an edited YAML text. It first applies the edits to the
// original text line by line (splice), which keeps everything else byte
// for byte, blank lines and comment layout included; when an edit cannot be
// placed that way (a flow-style entry, a userid spread over lines) it
// renders the edited node tree instead, which keeps comments and order but
// not blank lines. Either way the result is parsed again and must be the
// edited tree exactly, or nothing is returned: a rendering slip must never
// change a mapping.
func renderText(src []byte, root *yaml.Node, edits []edit, indentSeq bool) ([]byte, error) {
	if out, ok := splice(src, edits); ok {
		if err := sameAs(root, out); err == nil {
			return out, nil
		}
	}
	out, err := encodeYAML(root, indentSeq)
	if err != nil {
		return nil, err
	}
	if err := sameAs(root, out); err != nil {
		return nil, fmt.Errorf("refusing to write: %w", err)
	}
	return out, nil
}

// splice applies edits to src: a replaced userid is rewritten where it
// stands; an added one goes on a new line after the entry's last line, at
// the indentation of the entry's keys. It reports false when an edit does
// not fit that pattern.
func splice(src []byte, edits []edit) ([]byte, bool) {
	lines := strings.SplitAfter(string(src), "\n")
	type op struct {
		line, col int // 1-based line; col 0 means insert after line
		text      string
		oldLen    int
	}
	var ops []op
	for _, ed := range edits {
		e := ed.entry
		if e.Kind != yaml.MappingNode || e.Style&yaml.FlowStyle != 0 || len(e.Content) < 2 {
			return nil, false
		}
		if ed.val != nil {
			col, n, ok := scalarSpan(lines, ed.val, ed.old)
			if !ok {
				return nil, false
			}
			ops = append(ops, op{line: ed.val.Line, col: col, text: ed.id, oldLen: n})
			continue
		}
		last := lastLine(e)
		if last < 1 || last > len(lines) || e.Content[0].Column < 1 {
			return nil, false
		}
		eol := "\n"
		if strings.HasSuffix(lines[last-1], "\r\n") {
			eol = "\r\n"
		}
		indent := strings.Repeat(" ", e.Content[0].Column-1)
		ops = append(ops, op{line: last, text: indent + "userid: " + ed.id + eol})
	}
	// Bottom to top, right to left, so earlier positions stay valid.
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].line != ops[j].line {
			return ops[i].line > ops[j].line
		}
		return ops[i].col > ops[j].col
	})
	for _, o := range ops {
		i := o.line - 1
		if o.col == 0 {
			if !strings.HasSuffix(lines[i], "\n") {
				lines[i] += "\n"
			}
			lines = append(lines[:i+1], append([]string{o.text}, lines[i+1:]...)...)
			continue
		}
		l := lines[i]
		lines[i] = l[:o.col] + o.text + l[o.col+o.oldLen:]
	}
	return []byte(strings.Join(lines, "")), true
}

// scalarSpan finds the plain or quoted single-line scalar v, whose value
// was written as value, in the text and returns the byte offset and length
// of that value (inside any quotes).
func scalarSpan(lines []string, v *yaml.Node, value string) (col, n int, ok bool) {
	if v.Kind != yaml.ScalarNode || v.Line < 1 || v.Line > len(lines) || v.Column < 1 {
		return 0, 0, false
	}
	l := lines[v.Line-1]
	col = v.Column - 1 // yaml columns count from 1; these are ASCII lines or we bail below
	if col > len(l) {
		return 0, 0, false
	}
	rest := l[col:]
	switch v.Style {
	case 0:
		if strings.HasPrefix(rest, value) {
			return col, len(value), true
		}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := `"`
		if v.Style == yaml.SingleQuotedStyle {
			q = "'"
		}
		if strings.HasPrefix(rest, q+value+q) {
			return col + 1, len(value), true
		}
	}
	return 0, 0, false
}

// lastLine is the highest line any node of the tree starts on.
func lastLine(n *yaml.Node) int {
	m := n.Line
	for _, c := range n.Content {
		if l := lastLine(c); l > m {
			m = l
		}
	}
	return m
}

// sameAs parses out and compares it with root, ignoring positions, styles
// and comments.
func sameAs(root *yaml.Node, out []byte) error {
	var got yaml.Node
	if err := yaml.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("the rewritten text does not parse: %w", err)
	}
	if err := sameTree(root, &got, 0); err != nil {
		return fmt.Errorf("the rewritten text differs from the intended edit: %w", err)
	}
	return nil
}

var errDeep = errors.New("too deeply nested")

func sameTree(a, b *yaml.Node, depth int) error {
	if depth > 100 {
		return errDeep
	}
	if a.Kind == yaml.DocumentNode && len(a.Content) == 1 {
		a = a.Content[0]
	}
	if b.Kind == yaml.DocumentNode && len(b.Content) == 1 {
		b = b.Content[0]
	}
	if a.Kind != b.Kind {
		return fmt.Errorf("line %d: a %v became a %v", b.Line, a.Kind, b.Kind)
	}
	switch a.Kind {
	case yaml.ScalarNode:
		if a.Value != b.Value || a.ShortTag() != b.ShortTag() {
			return fmt.Errorf("line %d: %s %q became %s %q", b.Line, a.ShortTag(), a.Value, b.ShortTag(), b.Value)
		}
	case yaml.AliasNode:
		if a.Value != b.Value {
			return fmt.Errorf("line %d: alias *%s became *%s", b.Line, a.Value, b.Value)
		}
	default:
		if len(a.Content) != len(b.Content) {
			return fmt.Errorf("line %d: %d items became %d", b.Line, len(a.Content), len(b.Content))
		}
		for i := range a.Content {
			if err := sameTree(a.Content[i], b.Content[i], depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// encodeYAML renders a node tree with two-space indentation, lists
// indented under their key or not as indentSeq says.
func encodeYAML(n *yaml.Node, indentSeq bool) ([]byte, error) {
	if n.Kind == 0 || (n.Kind == yaml.DocumentNode && len(n.Content) == 0) {
		return nil, nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if !indentSeq {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("render yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render yaml: %w", err)
	}
	return b.Bytes(), nil
}
