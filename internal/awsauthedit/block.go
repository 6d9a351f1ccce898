package awsauthedit

import (
	"strings"
	"unicode/utf8"

	"github.com/iamgate/iamgate/internal/mapping"
)

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

// A block list item runs from the line of its dash to its last line of
// content. Lines after that which are blank, or comments no deeper than
// the dash, belong to what follows: a comment directly above a dash
// describes that item.

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// commentAt reports whether s is a comment-only line whose '#' is at or
// left of column col (1-based); col 0 means any column.
func commentAt(s string, col int) bool {
	t := strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(t, "#") {
		return false
	}
	return col == 0 || len(s)-len(t)+1 <= col
}

// dashLine is the line of item i's dash: its node's line, or an earlier
// one for an item written "-" then its content below.
func (d *doc) dashLine(i int) int {
	it := d.items()[i]
	col := d.seq.Column
	for l := it.Line; l >= 1; l-- {
		s := d.line(l)
		if len(s) >= col && s[col-1] == '-' && strings.TrimSpace(s[:col-1]) == "" {
			return l
		}
	}
	return it.Line
}

// contentEnd is the line after item i's last line of content.
func (d *doc) contentEnd(i int) int {
	next := d.lineCount() + 1
	if i+1 < len(d.items()) {
		next = d.dashLine(i + 1)
	}
	first := d.dashLine(i)
	for next-1 > first {
		s := d.line(next - 1)
		if isBlank(s) || commentAt(s, d.seq.Column) {
			next--
			continue
		}
		break
	}
	return next
}

// headStart is the first line of the comment block directly above item
// i's dash (the dash's own line when there is none). A comment separated
// from the item by a blank line (a header above the list, say) is not the
// item's.
func (d *doc) headStart(i int) int {
	l := d.dashLine(i)
	low := 1
	if i > 0 {
		low = d.contentEnd(i - 1)
	}
	s := l
	for s-1 >= low && commentAt(d.line(s-1), 0) {
		s--
	}
	return s
}

// removeBlock deletes items idx (sorted), each with its head comments. A
// blank line left doubled by a removal goes too.
func (d *doc) removeBlock(idx []int) string {
	n := d.lineCount()
	del := make([]bool, n+2)
	for _, i := range idx {
		for l := d.headStart(i); l < d.contentEnd(i); l++ {
			del[l] = true
		}
	}
	for l := 1; l <= n; l++ {
		if !del[l] || (l < n && del[l+1]) {
			continue
		}
		// l ends a deleted run; find where it began.
		s := l
		for s-1 >= 1 && del[s-1] {
			s--
		}
		before := s == 1 || isBlank(d.line(s-1))
		if l+1 <= n && isBlank(d.line(l+1)) && before {
			del[l+1] = true
		}
	}
	var b strings.Builder
	for l := 1; l <= n; l++ {
		if del[l] {
			continue
		}
		b.WriteString(d.rawLine(l))
	}
	return b.String()
}

// rawLine is line l with its line ending, as written.
func (d *doc) rawLine(l int) string {
	e := len(d.src)
	if l < len(d.starts) {
		e = d.starts[l]
	}
	return d.src[d.starts[l-1]:e]
}

// addBlock inserts e after the last item's content.
func (d *doc) addBlock(e mapping.Entry) string {
	st := d.blockStyle()
	if d.seq == nil {
		text := d.src
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += d.nl
		}
		return text + st.render(e, d.nl)
	}
	at := d.contentEnd(len(d.items()) - 1)
	return d.spliceLines(at, at, st.render(e, d.nl))
}

// replaceBlock puts e where item i's lines are (its head comments stay).
func (d *doc) replaceBlock(i int, e mapping.Entry) string {
	return d.spliceLines(d.dashLine(i), d.contentEnd(i), d.blockStyle().render(e, d.nl))
}

// spliceLines replaces lines [from, to) with text (whole lines ending in a
// line break).
func (d *doc) spliceLines(from, to int, text string) string {
	startOff := len(d.src)
	if from <= d.lineCount() {
		startOff = d.starts[from-1]
	}
	endOff := len(d.src)
	if to <= d.lineCount() {
		endOff = d.starts[to-1]
	}
	head := d.src[:startOff]
	if head != "" && !strings.HasSuffix(head, "\n") {
		head += d.nl
	}
	return head + text + d.src[endOff:]
}
