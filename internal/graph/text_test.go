package graph

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/graph/browsertest"
)

// TestDOTRendersWithGraphviz has Graphviz's own dot lay the seed graph out
// as SVG: it rejects a file with a syntax error, and the labels it draws
// are the ones written (escaping included).
func TestDOTRendersWithGraphviz(t *testing.T) {
	dot := browsertest.Need(t, "graphviz", "dot")
	in := seedInput(t)
	g := Build(in)
	// A name with DOT's special characters must come out as written.
	g.Nodes = append(g.Nodes, Node{ID: "user:odd", Kind: KindUser, Label: `say "hi" \ {x} <y>`})
	var src bytes.Buffer
	if err := g.WriteDOT(&src); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dot, "-Tsvg")
	cmd.Stdin = &src
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() > 0 {
		t.Fatalf("dot: %v\n%s\n%s", err, errb.String(), src.String())
	}
	svg := out.String()
	for _, want := range []string{
		"role 111122223333:role/K10Operator", "k10:basic", "ClusterRoleBinding k10&#45;basic", "ClusterRole k10&#45;basic",
		"Role apps/deployer", "RoleBinding apps/dev&#45;view", "unrestricted (no binding needed)",
		"sso ReadOnly in 111122223333", `say &quot;hi&quot; \ {x} &lt;y&gt;`, "stroke-dasharray",
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("dot's SVG lacks %q", want)
		}
	}
}

func TestDOTMarksKinds(t *testing.T) {
	g := Build(seedInput(t))
	var b bytes.Buffer
	if err := g.WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	ids := g.ids()
	line := func(id string) string {
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, "  "+ids[id]+" [") {
				return l
			}
		}
		t.Fatalf("no line for %s", id)
		return ""
	}
	if l := line("group:system:masters"); !strings.Contains(l, `color="#c5221f"`) {
		t.Errorf("system:masters not marked: %s", l)
	}
	old := principal(t, g, "role 111122223333:role/K10Operator", false)
	if l := line(old); !strings.Contains(l, "dashed") || !strings.Contains(l, "shadowed") {
		t.Errorf("shadowed entry not dashed with its reason: %s", l)
	}
}

func TestMermaidEscapesAndDashes(t *testing.T) {
	g := Build(seedInput(t))
	g.Nodes = append(g.Nodes, Node{ID: "user:odd", Kind: KindUser, Label: `a"b<c>`})
	var b bytes.Buffer
	if err := g.WriteMermaid(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	ids := g.ids()
	old := principal(t, g, "role 111122223333:role/K10Operator", false)
	for _, want := range []string{
		"flowchart LR\n",
		ids["user:odd"] + `(["a#quot;b#lt;c#gt;"]):::user`,
		ids[old] + ` -.->|"group"| ` + ids["group:k10:admin"],
		ids["group:system:masters"] + `(["system:masters<br/>unrestricted (no binding needed)"]):::masters`,
		ids["binding:clusterrolebinding/k10-basic"] + " --> " + ids["role:clusterrole/k10-basic"],
	} {
		if !strings.Contains(out, want) {
			t.Errorf("mermaid lacks %q\n%s", want, out)
		}
	}
}
