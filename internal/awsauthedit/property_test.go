package awsauthedit

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// corpus: lists as people and tools write them (the seed documents, the
// docs' examples, JSON from IaC tools, comments everywhere, CRLF).
var corpus = []struct{ section, text string }{
	{mapping.SectionRoles, seed},
	{mapping.SectionRoles, strings.ReplaceAll(seed, "\n", "\r\n")},
	{mapping.SectionRoles, "# nodes\n- rolearn: arn:aws:iam::111122223333:role/eks-node # the node group\n  # kubelet identity\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n\n\n# humans\n\n- rolearn: 'arn:aws:iam::111122223333:role/dev'\n  username: 'dev:{{SessionName}}'\n  groups:\n  - devs\n  # end of dev\n# trailer\n"},
	{mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::111122223333:role/a","username":"a","groups":["x"]},{"rolearn":"arn:aws:iam::111122223333:role/b","username":"b"},{"rolearn":"arn:aws:iam::111122223333:role/c","username":"c"}]`},
	{mapping.SectionRoles, "[\n  {\n    \"rolearn\": \"arn:aws:iam::111122223333:role/a\",\n    \"username\": \"a\"\n  },\n  {\n    \"rolearn\": \"arn:aws:iam::111122223333:role/b\",\n    \"username\": \"b\"\n  }\n]\n"},
	{mapping.SectionUsers, "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups:\n    - system:masters\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n"},
	{mapping.SectionRoles, "- &node\n  rolearn: arn:aws:iam::111122223333:role/a\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:nodes]\n- rolearn: arn:aws:iam::111122223333:role/x\n  username: x\n- <<: *node\n  rolearn: arn:aws:iam::111122223333:role/b\n"},
	{mapping.SectionAccounts, "- \"111122223333\"\n- \"222233334444\" # partner\n- '333344445555'\n"},
	{mapping.SectionAccounts, `["111122223333", "222233334444"]`},
	{mapping.SectionGroups, "- grouparn: arn:aws:iam::111122223333:group/ops\n  username: ops:{{SessionName}}\n  groups:\n  - ops\n"},
}

func entriesOf(t *testing.T, section, text string) []shape {
	t.Helper()
	es, _ := awsauth.ParseSectionYAML(section, []byte(text), awsauth.Source{})
	out := []shape{}
	for _, e := range es {
		out = append(out, shapeOf(e))
	}
	return out
}

// sharedEnds is the length of the common prefix plus the common suffix of
// a and b, not overlapping in the shorter one.
func sharedEnds(a, b string) int {
	n := min(len(a), len(b))
	p := 0
	for p < n && a[p] == b[p] {
		p++
	}
	s := 0
	for s < n-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	return p + s
}

func newFor(section string) mapping.Entry {
	switch section {
	case mapping.SectionUsers:
		return alice
	case mapping.SectionGroups:
		return ops
	case mapping.SectionAccounts:
		return acct
	}
	return devs
}

// Property: removing entry i reads back as the same entries without i,
// and the text changed in one place only (every other byte kept); adding
// reads back as the entries plus the new one at the end, the old text
// kept whole around one insertion.
func TestEditsChangeOnlyTheirEntry(t *testing.T) {
	for ci, c := range corpus {
		before := entriesOf(t, c.section, c.text)
		d, err := parse(c.section, c.text)
		if err != nil {
			t.Fatal(err)
		}
		for i := range d.items() {
			out, err := Remove(c.section, c.text, []int{i})
			if err != nil {
				if strings.Contains(err.Error(), "anchor") {
					continue
				}
				t.Fatalf("corpus[%d] remove %d: %v", ci, i, err)
			}
			want := append(append([]shape{}, before[:i]...), before[i+1:]...)
			if got := entriesOf(t, c.section, out); !reflect.DeepEqual(got, want) {
				t.Errorf("corpus[%d] remove %d: entries %v, want %v", ci, i, got, want)
			}
			if sharedEnds(c.text, out) != len(out) {
				t.Errorf("corpus[%d] remove %d: the text changed in more than one place:\n%s", ci, i, out)
			}
		}
		e := newFor(c.section)
		out, err := Add(c.section, c.text, e)
		if err != nil {
			t.Fatalf("corpus[%d] add: %v", ci, err)
		}
		want := append(append([]shape{}, before...), shapeOf(e))
		if got := entriesOf(t, c.section, out); !reflect.DeepEqual(got, want) {
			t.Errorf("corpus[%d] add: entries %v, want %v", ci, got, want)
		}
		if sharedEnds(c.text, out) != len(c.text) {
			t.Errorf("corpus[%d] add: the old text is not kept around one insertion:\n%s", ci, out)
		}
	}
}

// FuzzEdits: whatever the text, an edit either fails with a reason or
// passes its own read-back check; it never panics, and never returns a
// result that changed other entries (verify is not bypassed).
func FuzzEdits(f *testing.F) {
	for _, c := range corpus {
		f.Add(c.text, 0)
	}
	f.Fuzz(func(t *testing.T, text string, i int) {
		for _, s := range []string{mapping.SectionRoles, mapping.SectionAccounts} {
			before := entriesOf(t, s, text)
			if out, err := Add(s, text, newFor(s)); err == nil {
				if got := entriesOf(t, s, out); len(got) != len(before)+1 {
					t.Fatalf("add: %d entries after, %d before", len(got), len(before))
				}
			}
			if i >= 0 && i < 8 {
				_, _ = Remove(s, text, []int{i})
			}
		}
	})
}
