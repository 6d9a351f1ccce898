package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/config"
)

// keyFuncs are the loader's functions that switch on key names, and where
// in the file their keys live.
var keyFuncs = map[string]string{
	"Parse":               "",
	"setServerKey":        "server.",
	"setLookupKey":        "server.",
	"reservedPrefixEntry": "server.reservedprefixconfig[].",
}

// loaderKeys reads the config loader's source and returns every key name it
// accepts (lower case, with its section), from the case labels of each
// "switch key" statement.
func loaderKeys(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "config", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("config sources: %v %v", files, err)
	}
	keys := map[string]bool{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				sw, ok := n.(*ast.SwitchStmt)
				if !ok {
					return true
				}
				if id, ok := sw.Tag.(*ast.Ident); !ok || id.Name != "key" {
					return true
				}
				prefix, known := keyFuncs[fn.Name.Name]
				if !known {
					t.Errorf("%s: config.%s switches on key names; add it to keyFuncs with the section its keys live in",
						fset.Position(sw.Pos()), fn.Name.Name)
					return true
				}
				for _, s := range sw.Body.List {
					for _, e := range s.(*ast.CaseClause).List {
						if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							keys[prefix+v] = true
						}
					}
				}
				return true
			})
		}
	}
	return keys
}

// docRows maps each key in docs/config.md's tables (lower case) to its row's
// cells.
func docRows(t *testing.T) (map[string][]string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|(.*)\\|$")
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		rows[strings.ToLower(m[1])] = strings.Split(m[2], "|")
	}
	return rows, string(b)
}

// TestConfigDocListsEveryKey: docs/config.md has a row for every key the
// loader accepts and no row for a key it does not, and names each server
// flag (with the key it sets).
func TestConfigDocListsEveryKey(t *testing.T) {
	keys := loaderKeys(t)
	if len(keys) < 40 || !keys["server.statedir"] || !keys["clusterid"] || !keys["server.iamgroupsrolearns"] {
		t.Fatalf("read %d keys from the loader, which looks wrong: %v", len(keys), keys)
	}
	rows, doc := docRows(t)
	for k := range keys {
		if _, ok := rows[k]; !ok {
			t.Errorf("docs/config.md has no row for the config key %q", k)
		}
	}
	for k := range rows {
		if !keys[k] && !strings.HasPrefix(k, "-") {
			t.Errorf("docs/config.md lists %q, which the loader does not accept", k)
		}
	}

	// The loader really takes each key: none is an unknown key.
	for k := range keys {
		if err := parseOneKey(k); err != nil && strings.Contains(err.Error(), "unknown key") {
			t.Errorf("key %q read from the loader's source is refused as unknown: %v", k, err)
		}
	}

	// Every server flag is on the page; one that sets a key is in its row.
	cmd := NewServerCommand(Deps{}, Streams{})
	setsKey := regexp.MustCompile(`config: (server\.\w+)`)
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		if !strings.Contains(doc, "`--"+f.Name) {
			t.Errorf("docs/config.md does not mention server's --%s", f.Name)
		}
		m := setsKey.FindStringSubmatch(f.Usage)
		if m == nil {
			return
		}
		if r, ok := rows[strings.ToLower(m[1])]; !ok || !strings.Contains(r[0], "`--"+f.Name+"`") {
			t.Errorf("docs/config.md: the row for %s should name its flag --%s (row %q)", m[1], f.Name, r)
		}
	})
}

// parseOneKey loads a file that sets only key (to null, or to a list entry
// for a nested key).
func parseOneKey(key string) error {
	parts := strings.Split(key, ".")
	var doc string
	switch {
	case len(parts) == 1:
		doc = key + ": ~\n"
	case strings.HasSuffix(parts[1], "[]"):
		doc = parts[0] + ":\n  " + strings.TrimSuffix(parts[1], "[]") + ":\n  - " + parts[2] + ": ~\n"
	default:
		doc = parts[0] + ":\n  " + parts[1] + ": ~\n"
	}
	_, err := config.Parse([]byte(doc), "")
	return err
}
