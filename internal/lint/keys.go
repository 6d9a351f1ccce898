package lint

import (
	"fmt"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
)

// format is the dialect a section is written in: the key spellings its
// writers use differ (EKS Anywhere writes roleARN, aws-auth rolearn).
type format int

const (
	formatAWSAuth format = iota // aws-auth ConfigMap, config file, dynamic file
	formatAWSIamConfig
	formatCRD
)

// field is one key of an entry as written.
type field struct {
	key      string // as written
	keyLine  int
	valLine  int
	val      string // the scalar value, "" when not a scalar
	isScalar bool
	list     []string // a list of scalars (groups)
}

// entryInfo is what the walk learnt about one entry: file lines and raw
// values by lower-cased key.
type entryInfo struct {
	line   int
	fields map[string]field
	sso    map[string]field
}

// lineOf returns the file line of key's value, else the entry's line.
func (e *entryInfo) lineOf(keys ...string) int {
	if e == nil {
		return 0
	}
	for _, k := range keys {
		if f, ok := e.fields[k]; ok {
			return f.keyLine
		}
	}
	return e.line
}

// infoKey names an entry across sections.
type infoKey struct {
	section string
	index   int
}

// spelling lists, for each section, the keys it reads (lower-cased) and the
// spelling to write them in.
var spelling = map[format]map[string]map[string]string{
	formatAWSAuth: {
		mapping.SectionRoles:  {"rolearn": "rolearn", "username": "username", "groups": "groups", "userid": "", "sso": "sso"},
		mapping.SectionUsers:  {"userarn": "userarn", "username": "username", "groups": "groups", "userid": ""},
		mapping.SectionGroups: {"grouparn": "grouparn", "username": "username", "groups": "groups", "userid": ""},
	},
	formatAWSIamConfig: {
		mapping.SectionRoles: {"rolearn": "roleARN", "username": "username", "groups": "groups"},
		mapping.SectionUsers: {"userarn": "userARN", "username": "username", "groups": "groups"},
	},
}

var ssoSpelling = map[string]string{"permissionsetname": "permissionSetName", "accountid": "accountID", "partition": "partition"}

// arnKeyHome is the section a principal key belongs in.
var arnKeyHome = map[string]string{"rolearn": mapping.SectionRoles, "userarn": mapping.SectionUsers, "grouparn": mapping.SectionGroups, "sso": mapping.SectionRoles}

// walkSection reads the keys of every entry of s as written: it reports
// keys in another case than their usual spelling, keys of another
// section and unknown keys (with the nearest known key), and records
// lines and values for the entry rules.
func walkSection(s *section, f format) ([]Finding, map[infoKey]*entryInfo) {
	infos := map[infoKey]*entryInfo{}
	n := s.node
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil, infos
	}
	off := s.lines.offset
	var out []Finding
	add := func(sev Severity, rule string, i, line int, msg string) {
		out = append(out, Finding{Severity: sev, Rule: rule, File: s.src.File, Object: s.src.Object,
			Line: line, Section: s.name, Index: i, Message: msg})
	}
	known := spelling[f][s.name]
	for i, e := range n.Content {
		if e.Kind == yaml.AliasNode {
			e = e.Alias
		}
		info := &entryInfo{line: e.Line + off, fields: map[string]field{}}
		infos[infoKey{s.name, i}] = info
		if s.name == mapping.SectionAccounts {
			if e.Kind == yaml.ScalarNode {
				info.fields["account"] = field{val: e.Value, isScalar: true, keyLine: e.Line + off, valLine: e.Line + off}
			}
			continue
		}
		if e.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(e.Content); j += 2 {
			k, v := e.Content[j], e.Content[j+1]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				continue
			}
			lk := strings.ToLower(k.Value)
			fl := readField(k, v, off)
			info.fields[lk] = fl
			if lk == "sso" && v.Kind == yaml.MappingNode {
				info.sso = map[string]field{}
				for m := 0; m+1 < len(v.Content); m += 2 {
					sk, sv := v.Content[m], v.Content[m+1]
					if sk.Kind != yaml.ScalarNode {
						continue
					}
					sl := strings.ToLower(sk.Value)
					info.sso[sl] = readField(sk, sv, off)
					if want, ok := ssoSpelling[sl]; ok && want != sk.Value && f == formatAWSAuth {
						add(Warning, "key-case", i, sk.Line+off, fmt.Sprintf("sso key %q loads (keys ignore case) but write it %q, the spelling aws-iam-authenticator and EKS document", sk.Value, want))
					}
				}
			}
			if f == formatCRD {
				continue // checked strictly by readSpec
			}
			want, ok := known[lk]
			switch {
			case ok && want != "" && want != k.Value:
				add(Warning, "key-case", i, k.Line+off, fmt.Sprintf("key %q loads (keys ignore case) but write it %q, the spelling the other aws-auth tools write and compare", k.Value, want))
			case ok:
			case arnKeyHome[lk] != "":
				add(Error, "wrong-section-key", i, k.Line+off, wrongSectionMessage(s.name, k.Value, lk, f))
			default:
				msg := fmt.Sprintf("unknown key %q: iamgate refuses the entry (aws-iam-authenticator silently ignores the key)", k.Value)
				if sg := suggestKey(lk, known, f, s.name); sg != "" {
					msg += fmt.Sprintf("; did you mean %q?", sg)
				} else {
					msg += "; the keys are " + strings.Join(keyList(known, f, s.name), ", ")
				}
				add(Error, "unknown-key", i, k.Line+off, msg)
			}
		}
	}
	return out, infos
}

func readField(k, v *yaml.Node, off int) field {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	fl := field{key: k.Value, keyLine: k.Line + off, valLine: v.Line + off}
	switch v.Kind {
	case yaml.ScalarNode:
		fl.val, fl.isScalar = v.Value, true
	case yaml.SequenceNode:
		for _, g := range v.Content {
			if g.Kind == yaml.ScalarNode {
				fl.list = append(fl.list, g.Value)
			}
		}
	}
	return fl
}

func wrongSectionMessage(section, written, lk string, f format) string {
	home := arnKeyHome[lk]
	own := keyList(spelling[f][section], f, section)[0]
	if lk == "sso" {
		return fmt.Sprintf("%q is only read in mapRoles: move this entry there", written)
	}
	return fmt.Sprintf("%q belongs in %s, not %s: move the entry to %s, or write %s here if it names a %s", written, home, section, home, own, kindWord(section))
}

func kindWord(section string) string {
	switch section {
	case mapping.SectionRoles:
		return "role"
	case mapping.SectionUsers:
		return "user"
	}
	return "group"
}

// keyList is the section's keys in their usual spelling, principal first.
func keyList(known map[string]string, f format, section string) []string {
	var out []string
	for lk, w := range known {
		if w == "" {
			w = lk
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b string) int {
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return out
}

func rank(k string) int {
	if strings.HasSuffix(strings.ToLower(k), "arn") {
		return 0
	}
	return 1
}

// suggestKey returns the known key nearest to lk, for a misspelling.
func suggestKey(lk string, known map[string]string, f format, section string) string {
	return suggest(lk, keyList(known, f, section))
}

// suggest returns the candidate within a small edit distance of s
// (ignoring case), or one s is a prefix or extension of.
func suggest(s string, candidates []string) string {
	ls := strings.ToLower(s)
	best, bestD := "", 3
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if ls == lc {
			return c
		}
		d := distance(ls, lc)
		if (strings.HasPrefix(lc, ls) || strings.HasPrefix(ls, lc)) && len(ls) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b (short keys only).
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
