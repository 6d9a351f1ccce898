package graph

import (
	"fmt"
	"io"
	"strings"
)

// maxLabel keeps boxes narrow; the full text is in the tooltip.
const maxLabel = 60

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ids numbers nodes n0, n1, ...: names as written may hold any character
// and neither DOT nor Mermaid takes them as identifiers.
func (g *Graph) ids() map[string]string {
	m := make(map[string]string, len(g.Nodes))
	for i, n := range g.Nodes {
		m[n.ID] = fmt.Sprintf("n%d", i)
	}
	return m
}

// label is a node's text: its name, and for inactive entries the reason.
func (n *Node) lines() []string {
	out := []string{clip(n.Label, maxLabel)}
	switch {
	case n.Inactive:
		out = append(out, clip(n.Reason, maxLabel))
	case n.Masters:
		out = append(out, "unrestricted (no binding needed)")
	case n.Implicit:
		out = append(out, "every authenticated principal")
	case n.Missing:
		out = append(out, "missing: grants nothing")
	}
	return out
}

// dotQuote writes s as a DOT string: quotes and backslashes escaped, line
// breaks as DOT's \n.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

var dotShape = map[Kind]string{
	KindPrincipal: `shape=box style="rounded,filled" fillcolor="#e8f0fe"`,
	KindUser:      `shape=ellipse style=filled fillcolor="#e6f4ea"`,
	KindGroup:     `shape=ellipse style=filled fillcolor="#fef7e0"`,
	KindBinding:   `shape=box style=filled fillcolor="#f1f3f4"`,
	KindRole:      `shape=note style=filled fillcolor="#f3e8fd"`,
}

// WriteDOT writes g for Graphviz (dot -Tsvg): left to right, one rank per
// kind, inactive entries dashed and grey, system:masters red.
func (g *Graph) WriteDOT(w io.Writer) error {
	ids := g.ids()
	var b strings.Builder
	b.WriteString("digraph iamgate {\n  rankdir=LR;\n  node [fontname=\"Helvetica\" fontsize=10];\n  edge [fontname=\"Helvetica\" fontsize=8];\n")
	for _, note := range g.Notes {
		fmt.Fprintf(&b, "  // %s\n", strings.ReplaceAll(note, "\n", " "))
	}
	ranks := map[Kind][]string{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		attrs := dotShape[n.Kind]
		switch {
		case n.Inactive:
			attrs = strings.Replace(attrs, `style="rounded,filled"`, `style="rounded,dashed"`, 1) + ` color="#888888" fontcolor="#666666"`
		case n.Masters:
			attrs += ` color="#c5221f" penwidth=2 fillcolor="#fce8e6" fontcolor="#c5221f"`
		case n.Missing:
			attrs += ` style=dashed color="#c5221f"`
		}
		fmt.Fprintf(&b, "  %s [label=%s tooltip=%s %s];\n", ids[n.ID], dotQuote(strings.Join(n.lines(), "\n")),
			dotQuote(strings.Join(n.Detail, "\n")), attrs)
		ranks[n.Kind] = append(ranks[n.Kind], ids[n.ID])
	}
	for _, k := range []Kind{KindPrincipal, KindBinding, KindRole} {
		if len(ranks[k]) > 1 {
			fmt.Fprintf(&b, "  { rank=same; %s; }\n", strings.Join(ranks[k], "; "))
		}
	}
	for _, e := range g.Edges {
		attrs := []string{}
		if e.Label != "" {
			attrs = append(attrs, "label="+dotQuote(clip(e.Label, 40)))
		}
		if e.Dashed {
			attrs = append(attrs, `style=dashed color="#888888"`)
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", ids[e.From], ids[e.To], strings.Join(attrs, " "))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidText escapes s for a quoted Mermaid label: Mermaid reads entity
// codes (#quot;) and <br/> there, and would take a bare quote as the end.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ", "`", "#96;")
	return r.Replace(s)
}

var mermaidShape = map[Kind][2]string{
	KindPrincipal: {"(", ")"},
	KindUser:      {"([", "])"},
	KindGroup:     {"([", "])"},
	KindBinding:   {"[", "]"},
	KindRole:      {"[/", "/]"},
}

// WriteMermaid writes g as a Mermaid flowchart, with classes for the kinds
// and for inactive, system:masters and missing nodes.
func (g *Graph) WriteMermaid(w io.Writer) error {
	ids := g.ids()
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, note := range g.Notes {
		fmt.Fprintf(&b, "  %%%% %s\n", strings.ReplaceAll(note, "\n", " "))
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		lines := n.lines()
		for j := range lines {
			lines[j] = mermaidText(lines[j])
		}
		sh := mermaidShape[n.Kind]
		class := string(n.Kind)
		switch {
		case n.Inactive:
			class = "inactive"
		case n.Masters:
			class = "masters"
		case n.Missing:
			class = "missing"
		}
		fmt.Fprintf(&b, "  %s%s\"%s\"%s:::%s\n", ids[n.ID], sh[0], strings.Join(lines, "<br/>"), sh[1], class)
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Dashed {
			arrow = "-.->"
		}
		if e.Label != "" {
			fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", ids[e.From], arrow, mermaidText(clip(e.Label, 40)), ids[e.To])
		} else {
			fmt.Fprintf(&b, "  %s %s %s\n", ids[e.From], arrow, ids[e.To])
		}
	}
	b.WriteString(`  classDef principal fill:#e8f0fe,stroke:#1a73e8
  classDef user fill:#e6f4ea,stroke:#188038
  classDef group fill:#fef7e0,stroke:#b06000
  classDef binding fill:#f1f3f4,stroke:#5f6368
  classDef role fill:#f3e8fd,stroke:#9334e6
  classDef inactive fill:#ffffff,stroke:#888888,stroke-dasharray:5 5,color:#666666
  classDef masters fill:#fce8e6,stroke:#c5221f,stroke-width:2px,color:#c5221f
  classDef missing fill:#ffffff,stroke:#c5221f,stroke-dasharray:5 5
`)
	_, err := io.WriteString(w, b.String())
	return err
}
