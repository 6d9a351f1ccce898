package awsauthedit

import (
	"fmt"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
)

// A flow list ("[...]", which JSON is too, as IaC tools write aws-auth)
// is edited between item offsets; new items are JSON objects, valid in
// both.

// skipSpace skips blanks, line breaks and YAML comments from off.
func skipSpace(s string, off int) int {
	for off < len(s) {
		switch c := s[off]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			off++
		case c == '#' && (off == 0 || strings.ContainsRune(" \t\r\n", rune(s[off-1]))):
			for off < len(s) && s[off] != '\n' {
				off++
			}
		default:
			return off
		}
	}
	return off
}

// valueEnd returns the offset just past the flow value that starts at off:
// a bracketed collection, a quoted string or a plain scalar.
func valueEnd(s string, off int) (int, error) {
	if off >= len(s) {
		return 0, fmt.Errorf("unexpected end of text")
	}
	switch s[off] {
	case '[', '{':
		depth := 0
		for i := off; i < len(s); {
			switch c := s[i]; c {
			case '"', '\'':
				e, err := quotedEnd(s, i)
				if err != nil {
					return 0, err
				}
				i = e
				continue
			case '#':
				if strings.ContainsRune(" \t\r\n", rune(s[i-1])) {
					i = skipSpace(s, i)
					continue
				}
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, fmt.Errorf("unclosed %q", s[off])
	case '"', '\'':
		return quotedEnd(s, off)
	}
	i := off
	for i < len(s) && !strings.ContainsRune(",]}\r\n", rune(s[i])) && !(s[i] == '#' && strings.ContainsRune(" \t", rune(s[i-1]))) {
		i++
	}
	return off + len(strings.TrimRight(s[off:i], " \t")), nil
}

func quotedEnd(s string, off int) (int, error) {
	q := s[off]
	for i := off + 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("unclosed quote")
}

// itemSpan is the byte range of item i.
func (d *doc) itemSpan(i int) (start, end int, err error) {
	it := d.items()[i]
	start = d.offset(it.Line, it.Column)
	end, err = valueEnd(d.src, start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: line %d: %w", d.section, it.Line, err)
	}
	return start, end, nil
}

// seqSpan is the byte range of the flow list, brackets included.
func (d *doc) seqSpan() (start, end int, err error) {
	start = d.offset(d.seq.Line, d.seq.Column)
	if start >= len(d.src) || d.src[start] != '[' {
		return 0, 0, fmt.Errorf("%s: line %d: cannot find the list's '['", d.section, d.seq.Line)
	}
	end, err = valueEnd(d.src, start)
	return start, end, err
}

// jsonLayout is how the flow list lays out its items: the separator
// between two items and, for items written over several lines, the
// indentation to render a new one with.
func (d *doc) jsonLayout() (sep, prefix, indent string, err error) {
	items := d.items()
	sep = ","
	if len(items) >= 2 {
		_, e0, err := d.itemSpan(len(items) - 2)
		if err != nil {
			return "", "", "", err
		}
		s1, _, _ := d.itemSpan(len(items) - 1)
		sep = d.src[e0:s1]
		if strings.Contains(sep, "#") {
			sep = "," + sep[strings.LastIndex(sep, "\n"):] // keep the line break and indentation, not the comment
		}
	} else if len(items) == 1 {
		// One item: a space after the comma if the item has spaces
		// after its own commas.
		s, e, _ := d.itemSpan(0)
		open, _, _ := d.seqSpan()
		switch lead := d.src[open+1 : s]; {
		case strings.Contains(lead, "\n") && !strings.Contains(lead, "#"):
			sep = "," + lead // the item starts a line: so does the new one
		case strings.Contains(d.src[s:e], ", "):
			sep = ", "
		}
	}
	last := items[len(items)-1]
	s, e, err := d.itemSpan(len(items) - 1)
	if err != nil {
		return "", "", "", err
	}
	if body := d.src[s:e]; strings.Contains(body, "\n") && last.Kind == yaml.MappingNode && len(last.Content) > 0 {
		first := strings.TrimRight(d.line(last.Line), " \t")
		prefix = first[:len(first)-len(strings.TrimLeft(first, " \t"))]
		k := last.Content[0]
		if k.Line > last.Line && k.Column-1 > len(prefix) {
			indent = strings.Repeat(" ", k.Column-1-len(prefix))
		}
	}
	return sep, prefix, indent, nil
}

func (d *doc) addFlow(e mapping.Entry) (string, error) {
	items := d.items()
	if len(items) == 0 {
		s, end, err := d.seqSpan()
		if err != nil {
			return "", err
		}
		inner := d.src[s+1 : end-1]
		if strings.Contains(inner, "#") {
			return "", fmt.Errorf("%s: line %d: a comment inside an empty flow list; edit it by hand", d.section, d.seq.Line)
		}
		return d.src[:s+1] + jsonEntry(e, "", "") + d.src[end-1:], nil
	}
	sep, prefix, indent, err := d.jsonLayout()
	if err != nil {
		return "", err
	}
	_, end, err := d.itemSpan(len(items) - 1)
	if err != nil {
		return "", err
	}
	return d.src[:end] + sep + jsonEntry(e, prefix, indent) + d.src[end:], nil
}

func (d *doc) replaceFlow(i int, e mapping.Entry) (string, error) {
	_, prefix, indent, err := d.jsonLayout()
	if err != nil {
		return "", err
	}
	s, end, err := d.itemSpan(i)
	if err != nil {
		return "", err
	}
	return d.src[:s] + jsonEntry(e, prefix, indent) + d.src[end:], nil
}

// removeFlow deletes items idx (sorted). A run of removed items takes the
// separator after it with it, or, at the end of the list, the one before.
func (d *doc) removeFlow(idx []int) (string, error) {
	n := len(d.items())
	starts, ends := make([]int, n), make([]int, n)
	for i := range n {
		var err error
		if starts[i], ends[i], err = d.itemSpan(i); err != nil {
			return "", err
		}
	}
	gone := make([]bool, n)
	for _, i := range idx {
		gone[i] = true
	}
	type cut struct{ from, to int }
	var cuts []cut
	for a := 0; a < n; a++ {
		if !gone[a] {
			continue
		}
		b := a
		for b+1 < n && gone[b+1] {
			b++
		}
		switch {
		case a == 0 && b == n-1:
			cuts = append(cuts, cut{starts[0], ends[n-1]})
		case b < n-1:
			cuts = append(cuts, cut{starts[a], starts[b+1]})
		default:
			cuts = append(cuts, cut{ends[a-1], ends[b]})
		}
		a = b
	}
	out := d.src
	for j := len(cuts) - 1; j >= 0; j-- {
		c := cuts[j]
		out = out[:c.from] + out[c.to:]
	}
	return out, nil
}

// add, replace: block or flow.
func (d *doc) add(e mapping.Entry) (string, error) {
	if d.flow() {
		return d.addFlow(e)
	}
	return d.addBlock(e), nil
}

func (d *doc) replace(i int, e mapping.Entry) (string, error) {
	if d.flow() {
		return d.replaceFlow(i, e)
	}
	return d.replaceBlock(i, e), nil
}
