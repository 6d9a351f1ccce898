package resolveids

import (
	"strings"
	"testing"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// editAll adds "userid: ID" to every entry of the list at the top of text,
// as resolveEntry does, and returns the tree and the edits.
func editAll(t *testing.T, text, id string) (*yaml.Node, []edit) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	var edits []edit
	for _, e := range doc.Content[0].Content {
		addUserID(e, id)
		edits = append(edits, edit{entry: e, id: id})
	}
	return &doc, edits
}

func TestRenderSplicesInPlace(t *testing.T) {
	text := "# head\n\n- rolearn: a   # note\n  username: a\n\n\n- rolearn: b\r\n  username: b\r\n  # foot\n"
	doc, edits := editAll(t, text, "AROAX")
	out, err := renderText([]byte(text), doc, edits, true)
	if err != nil {
		t.Fatal(err)
	}
	want := "# head\n\n- rolearn: a   # note\n  username: a\n  userid: AROAX\n\n\n- rolearn: b\r\n  username: b\r\n  userid: AROAX\r\n  # foot\n"
	if string(out) != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}

	text = "- rolearn: a\n  groups: [g1] # no newline at the end"
	doc, edits = editAll(t, text, "AROAX")
	out, err = renderText([]byte(text), doc, edits, true)
	if err != nil || string(out) != text+"\n  userid: AROAX\n" {
		t.Fatalf("got %q, %v", out, err)
	}
}

// Where a line-wise edit would land inside a value, the result differs from
// the edited tree, and the tree is rendered instead.
func TestRenderFallsBackWhenSpliceWouldBreakAValue(t *testing.T) {
	for _, text := range []string{
		"- rolearn: a\n  username: a\n  groups: [\n    g1\n  ]\n",           // flow list closed on a later line
		"- rolearn: a\n  username: a\n  groups:\n  - |\n    one\n    two\n", // block scalar
		"- {rolearn: a, username: a}  # flow entry\n",                       // no line of its own
		"- rolearn: a\n  username: a\n  groups: [g1] # end without newline",
	} {
		doc, edits := editAll(t, text, "AROAX")
		if out, ok := splice([]byte(text), edits); ok && sameAs(doc, out) == nil && !strings.HasSuffix(text, "newline") {
			t.Errorf("%q: splice %q passed the check", text, out)
		}
		out, err := renderText([]byte(text), doc, edits, false)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if err := sameAs(doc, out); err != nil {
			t.Fatalf("%q: rendered %q: %v", text, out, err)
		}
		if strings.Contains(text, "#") && !strings.Contains(string(out), "#") {
			t.Errorf("%q: comment lost in %q", text, out)
		}
	}
}

func TestSameTreeSeesChanges(t *testing.T) {
	doc, _ := editAll(t, "- rolearn: a\n  username: a\n", "AROAX")
	for _, out := range []string{
		"- rolearn: a\n  username: a\n",                        // userid missing
		"- rolearn: a\n  username: a\n  userid: AROAY\n",       // wrong value
		"- rolearn: a\n  username: a\n  userid: 12\n",          // wrong type
		"- rolearn: a\n  username: a\n- userid: AROAX\n",       // wrong place
		"- rolearn: a\n  username: [a]\n  userid: AROAX\n",     // other change
		"- rolearn: a\n  username: a\n  userid: AROAX\n  x:\n", // extra key
	} {
		if sameAs(doc, []byte(out)) == nil {
			t.Errorf("%q passed as the edited tree", out)
		}
	}
	if err := sameAs(doc, []byte("- rolearn: 'a'\n  username: \"a\"  # c\n  userid: AROAX\n")); err != nil {
		t.Errorf("style and comments must not matter: %v", err)
	}
}

func TestIndentedSeq(t *testing.T) {
	for text, want := range map[string]bool{
		"a:\n- x\n":             false,
		"a:\n  - x\n":           true,
		"- x\n":                 false,
		"a: [x]\nb:\n    - y\n": true,
		"a:\n  b:\n  - x\n":     false,
		"a: 1\n":                true, // no list: yaml's default
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
			t.Fatal(err)
		}
		if got := indentedSeq(&doc); got != want {
			t.Errorf("indentedSeq(%q) = %v", text, got)
		}
	}
}
