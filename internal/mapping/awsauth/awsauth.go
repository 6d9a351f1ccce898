// Package awsauth reads mappings in the aws-auth format that
// aws-iam-authenticator defined: the mapRoles, mapUsers, mapGroups and
// mapAccounts lists of the kube-system/aws-auth ConfigMap, of its config
// file, of a dynamic file and of an EKS Anywhere AWSIamConfig.
//
// It reads the way aws-iam-authenticator does where that is safe (field
// names ignoring ASCII case, YAML merge keys, integers for account IDs)
// and refuses what it would have to guess at (unknown or repeated fields,
// mistyped values, aliases that expand too far). Every entry comes back as
// a mapping.Entry with the line it is written on; an entry it refuses
// comes back refused, so that it still denies the principal it names.
// Matching is not done here: rules.Build does it.
package awsauth

import (
	"slices"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Source places what is read, for Entry.Origin and Problem.Origin.
type Source struct {
	Backend string // backendMode name
	Object  string // "kube-system/aws-auth", a file path, ...
	// File is set when lines count the lines of a file; it names it.
	File string
	// LineOffset is added to every line: the file line just before the
	// text read starts (the key line of a block scalar, say).
	LineOffset int
}

func (s Source) origin(section string, index, line int) mapping.Origin {
	if line > 0 {
		line += s.LineOffset
	}
	return mapping.Origin{Backend: s.Backend, Object: s.Object, File: s.File, Section: section, Index: index, Line: line}
}

func (s Source) place(es []mapping.Entry, ps []problem) ([]mapping.Entry, []mapping.Problem) {
	for i := range es {
		o := es[i].Origin
		es[i].Origin = s.origin(o.Section, o.Index, o.Line)
	}
	var out []mapping.Problem
	for _, p := range ps {
		out = append(out, mapping.Problem{Origin: s.origin(p.Section, p.Index, p.Line), Names: p.Names, Err: p.Err, Fatal: p.Fatal})
	}
	return es, out
}

// ParseSection reads one section (mapRoles, mapUsers, mapGroups or
// mapAccounts) from the YAML node n; a nil or null node is an empty list.
// Node lines are taken as lines of src.
func ParseSection(section string, n *yaml.Node, src Source) ([]mapping.Entry, []mapping.Problem) {
	var es []mapping.Entry
	var ps []problem
	if section == mapping.SectionAccounts {
		es, ps = parseAccounts(n)
	} else {
		es, ps = parseEntries(section, n)
	}
	return src.place(es, ps)
}

// ParseSectionYAML parses data (a ConfigMap data value, say) as one YAML
// list and reads it with ParseSection. Empty data is an empty list.
func ParseSectionYAML(section string, data []byte, src Source) ([]mapping.Entry, []mapping.Problem) {
	n, p := decodeYAML(section, data)
	if p != nil {
		return src.place(nil, []problem{*p})
	}
	return ParseSection(section, n, src)
}

// Sections are the data keys of aws-auth, in the order entries are read.
// EKS, eksctl and EKS Anywhere write mapRoles, mapUsers and mapAccounts;
// mapGroups is iamgate's (IAM group membership).
var Sections = []string{mapping.SectionRoles, mapping.SectionUsers, mapping.SectionGroups, mapping.SectionAccounts}

// ParseData reads the data of an aws-auth ConfigMap, each key's lines
// counted from the start of its value. ignored lists, sorted, the data keys
// it does not read.
func ParseData(data map[string]string, src Source) (es []mapping.Entry, ps []mapping.Problem, ignored []string) {
	for k := range data {
		if !slices.Contains(Sections, k) {
			ignored = append(ignored, k)
		}
	}
	slices.Sort(ignored)
	for _, s := range Sections {
		e, p := ParseSectionYAML(s, []byte(data[s]), src)
		es, ps = append(es, e...), append(ps, p...)
	}
	return es, ps, ignored
}
