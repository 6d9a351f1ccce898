package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fenceRe finds fenced blocks in markdown: language, body.
var fenceRe = regexp.MustCompile("(?ms)^```([a-z]*)[^\\n]*\\n(.*?)^```")

// badCommentRe marks an entry a docs example shows as a mistake.
var badCommentRe = regexp.MustCompile(`#.*\b(typo|skipped|denied|refused)\b`)

// docExample is one fenced YAML or JSON block of docs/ that holds mappings.
type docExample struct {
	name string
	body string
	// bad: the docs present it as a mistake (an inline comment says so, or
	// the next block shows the server refusing it); lines are the lines
	// that following output names ("(line N)").
	bad   bool
	lines []int
}

// refusedRe is the server refusing an entry, in the output a docs example
// is followed by: "error: … mapRoles[1] (line 6): …" or the skip log line.
var refusedRe = regexp.MustCompile(`error: [^\n]*map(?:Roles|Users|Groups|Accounts)\[\d+\](?: \(line (\d+)\))?|skipped invalid mapping entry|denied the request: iamgate refused`)

func docExamples(t *testing.T, dir string) []docExample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs in %s: %v", dir, err)
	}
	var out []docExample
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks := fenceRe.FindAllStringSubmatch(string(data), -1)
		for i, m := range blocks {
			lang, body := m[1], m[2]
			if lang != "yaml" && lang != "yml" && lang != "json" {
				continue
			}
			low := strings.ToLower(body)
			if !strings.Contains(low, "maproles") && !strings.Contains(low, "mapusers") && !strings.Contains(low, "mapaccounts") &&
				!strings.Contains(body, "kind: IAMIdentityMapping") {
				continue
			}
			ex := docExample{name: filepath.Base(f) + "#" + strconv.Itoa(i), body: body, bad: badCommentRe.MatchString(body)}
			if i+1 < len(blocks) && blocks[i+1][1] == "text" {
				for _, re := range []*regexp.Regexp{refusedRe, lintErrorRe} {
					for _, r := range re.FindAllStringSubmatch(blocks[i+1][2], -1) {
						ex.bad = true
						if n, err := strconv.Atoi(r[1]); err == nil {
							ex.lines = append(ex.lines, n)
						}
					}
				}
			}
			out = append(out, ex)
		}
	}
	return out
}

// lintErrorRe is iamgate lint's own error line: "FILE:N: error: …".
var lintErrorRe = regexp.MustCompile(`(?m)^\S+:(\d+): error: `)

// TestDocsExamples lints every aws-auth example in docs/, read from the
// markdown so that docs and linter cannot drift apart: a good example
// gives no error; one the docs show as a mistake gives an error, on the
// line the docs' output names.
func TestDocsExamples(t *testing.T) {
	ex := docExamples(t, "../../docs")
	good := 0
	for _, e := range ex {
		fs := File(e.name, []byte(e.body), Options{})
		if !e.bad {
			good++
			for _, f := range fs {
				if f.Severity == Error {
					t.Errorf("%s: %s\n%s", e.name, f, e.body)
				}
			}
			continue
		}
		if !HasError(fs, false) {
			t.Errorf("%s: the docs show this as a mistake, lint finds no error\n%s", e.name, e.body)
		}
		for _, l := range e.lines {
			if !slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == Error && f.Line == l }) {
				t.Errorf("%s: the docs name line %d, lint has no error there:\n%s", e.name, l, dump(fs))
			}
		}
	}
	t.Logf("%d docs examples, %d good", len(ex), good)
	if good < 10 {
		t.Fatalf("found only %d good examples in docs/: the extraction is broken", good)
	}
}
