package graph

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/graph/browsertest"
)

// openSeedPage writes the seed graph's page to a file and opens it in
// headless Chromium.
func openSeedPage(t *testing.T, g *Graph) *browsertest.Page {
	t.Helper()
	path := filepath.Join(t.TempDir(), "access.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WriteHTML(f, "seed <cluster>"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return browsertest.Open(t, "file://"+path)
}

const shownIDs = `Array.from(document.querySelectorAll('#graph .node')).map(function (g) { return g.getAttribute('data-id'); })`

func setFilter(t *testing.T, p *browsertest.Page, principal, namespace string) []string {
	t.Helper()
	var ids []string
	p.Eval(t, `(function () {
		var i = document.getElementById('principal'); i.value = `+jsString(principal)+`; i.dispatchEvent(new Event('input'));
		var s = document.getElementById('namespace'); s.value = `+jsString(namespace)+`; s.dispatchEvent(new Event('change'));
		return `+shownIDs+`; }())`, &ids)
	return ids
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestHTMLPageInChromium loads the seed page in a real headless browser:
// no console error or exception, no request but the page itself (it is
// self-contained), every node drawn, and both filters cut the graph to the
// right part.
func TestHTMLPageInChromium(t *testing.T) {
	g := Build(seedInput(t))
	// A name holding markup must come out as text, not as markup.
	g.Nodes = append(g.Nodes, Node{ID: "user:</script><b>x", Kind: KindUser, Label: "</script><b>x"})
	p := openSeedPage(t, g)

	var ids []string
	p.Eval(t, shownIDs, &ids)
	for _, n := range g.Nodes {
		if !slices.Contains(ids, n.ID) {
			t.Errorf("node %s not drawn", n.ID)
		}
	}
	var texts []string
	p.Eval(t, `Array.from(document.querySelectorAll('#graph .node text')).map(function (t) { return t.textContent; })`, &texts)
	for _, want := range []string{"role 111122223333:role/K10Operator", "ClusterRole k10-basic", "Role apps/deployer",
		"unrestricted: no binding needed", "</script><b>x", "sso ReadOnly in 111122223333"} {
		if !slices.Contains(texts, want) {
			t.Errorf("no box reads %q; boxes: %q", want, texts)
		}
	}
	var dashed int
	p.Eval(t, `document.querySelectorAll('#graph .node.inactive').length`, &dashed)
	if dashed != 2 {
		t.Errorf("%d inactive boxes drawn, want 2 (the shadowed and the refused entry)", dashed)
	}
	var title string
	p.Eval(t, `document.title`, &title)
	if title != "seed <cluster>" {
		t.Errorf("title = %q", title)
	}

	alice := setFilter(t, p, "user/alice", "")
	slices.Sort(alice)
	want := []string{
		"binding:clusterrolebinding/everyone-view", "binding:rolebinding/apps/alice-deployer", "binding:rolebinding/apps/dev-view",
		"group:dev", "group:system:authenticated", principal(t, g, "user 111122223333:user/alice", true),
		"role:clusterrole/view", "role:role/apps/deployer", "user:alice",
	}
	slices.Sort(want)
	if !slices.Equal(alice, want) {
		t.Errorf("principal filter user/alice shows %q\nwant %q", alice, want)
	}
	apps := setFilter(t, p, "", "apps")
	for _, id := range apps {
		n := g.Node(id)
		if n.Kind == KindBinding && n.Namespace != "apps" {
			t.Errorf("namespace filter apps shows %s", id)
		}
		if strings.Contains(id, "K10Operator") || id == "group:system:masters" {
			t.Errorf("namespace filter apps shows %s, which reaches nothing there", id)
		}
	}
	if !slices.Contains(apps, "role:role/apps/deployer") || !slices.Contains(apps, "user:alice") {
		t.Errorf("namespace filter apps = %q", apps)
	}
	var count string
	p.Eval(t, `document.getElementById('count').textContent`, &count)
	if !strings.HasPrefix(count, "showing ") || !strings.HasSuffix(count, fmt.Sprintf(" of %d nodes", len(g.Nodes))) {
		t.Errorf("count = %q", count)
	}
	if all := setFilter(t, p, "", ""); len(all) != len(g.Nodes) {
		t.Errorf("cleared filters show %d of %d nodes", len(all), len(g.Nodes))
	}

	if shot := os.Getenv("IAMGATE_GRAPH_SCREENSHOT"); shot != "" {
		setFilter(t, p, "", "")
		p.Screenshot(t, shot)
	}
	if probs := p.Problems(); len(probs) > 0 {
		t.Errorf("page problems: %q", probs)
	}
	if reqs := p.Requests(); len(reqs) != 1 || !strings.HasPrefix(reqs[0], "file://") {
		t.Errorf("page requests = %q, want the page alone", reqs)
	}
}

// TestHTMLPageReportsScriptErrors proves the check above can fail: a page
// whose data does not parse throws, and the browser reports it.
func TestHTMLPageReportsScriptErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.html")
	page := strings.Replace(pageHTML, "{{.Data}}", "{not json", 1)
	page = strings.Replace(page, "{{.Script}}", pageJS, 1)
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	p := browsertest.Open(t, "file://"+path)
	var n int
	p.Eval(t, `document.querySelectorAll('#graph .node').length`, &n)
	if probs := p.Problems(); len(probs) == 0 || n != 0 {
		t.Errorf("broken page: problems %q, %d nodes", probs, n)
	}
}
