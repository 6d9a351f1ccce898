package graph

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
)

// The page and its script are this package's own: the HTML output is one
// file that draws itself with no network fetch (its Content-Security-Policy
// forbids any), so it can be mailed or opened offline.
var (
	//go:embed page.html
	pageHTML string
	//go:embed page.js
	pageJS string
)

// WriteHTML writes g as one self-contained page: the graph as JSON and a
// script that lays it out in columns, draws it as SVG and filters it by
// principal or namespace.
func (g *Graph) WriteHTML(w io.Writer, title string) error {
	// json.Marshal escapes <, > and &, so the data cannot close its
	// <script> element whatever the names hold.
	data, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("encode graph: %w", err)
	}
	if strings.Contains(pageJS, "</script") {
		return fmt.Errorf("page script holds </script")
	}
	page := strings.NewReplacer(
		"{{.Title}}", html.EscapeString(title),
		"{{.Data}}", string(data),
		"{{.Script}}", pageJS,
	).Replace(pageHTML)
	_, err = io.WriteString(w, page)
	return err
}
