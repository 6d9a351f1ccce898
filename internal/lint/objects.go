package lint

import (
	"fmt"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/config/awsiamconfig"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// specKeys are IAMIdentityMapping's spec fields. The API server matches
// them exactly and drops unknown ones, so a misspelt key is lost.
var specKeys = []string{"arn", "username", "groups", "userID"}

// crdSection reads one IAMIdentityMapping object as a one-entry section
// (index i among the file's objects).
func (l *fileLinter) crdSection(r *yaml.Node, top map[string]*yaml.Node, i int) section {
	name := scalar(mappingOf(top["metadata"])["name"])
	src := awsauth.Source{Backend: "CRD", Object: name, File: l.file}
	s := section{name: mapping.SectionSpec, src: src, preRead: true}
	spec := top["spec"]
	origin := mapping.Origin{Backend: "CRD", Object: name, File: l.file, Section: mapping.SectionSpec, Index: i, Line: lineOf(r)}
	problem := func(line int, err error) {
		o := origin
		o.Line = line
		s.pre = append(s.pre, mapping.Problem{Origin: o, Names: name, Err: err, Fatal: rules.IsFatal(err)})
	}
	if spec == nil || spec.Kind != yaml.MappingNode {
		problem(lineOf(r), fmt.Errorf("IAMIdentityMapping %q has no spec mapping", name))
		return s
	}
	origin.Line = spec.Line
	if len(spec.Content) > 0 {
		origin.Line = spec.Content[0].Line
	}
	e := mapping.Entry{Origin: origin}
	info := &entryInfo{line: origin.Line, fields: map[string]field{}}
	for j := 0; j+1 < len(spec.Content); j += 2 {
		k, v := spec.Content[j], spec.Content[j+1]
		info.fields[strings.ToLower(k.Value)] = readField(k, v, 0)
		switch k.Value {
		case "arn":
			e.ARN = v.Value
		case "username":
			e.Username = v.Value
		case "userID":
			e.UserID = v.Value
		case "groups":
			if isNullNode(v) {
				continue
			}
			if v.Kind != yaml.SequenceNode {
				problem(v.Line, fmt.Errorf("spec.groups must be a list of strings"))
				continue
			}
			for _, g := range v.Content {
				e.Groups = append(e.Groups, g.Value)
			}
		default:
			msg := fmt.Sprintf("unknown spec field %q: the API server drops it (fields are case-sensitive)", k.Value)
			if sg := suggest(k.Value, specKeys); sg != "" {
				msg += fmt.Sprintf("; write %q", sg)
			}
			l.add(Error, "unknown-key", k.Line, i, mapping.SectionSpec, msg)
		}
	}
	s.walkInfo = map[infoKey]*entryInfo{{mapping.SectionSpec, i}: info}
	e.Kind = kindOfARN(e.ARN)
	if err := rules.CheckTarget(e); err != nil {
		problem(info.lineOf("arn"), fmt.Errorf("spec.arn: %w", err))
		return s
	}
	if field, err := rules.CheckSyntax(e); err != nil {
		problem(info.lineOf(strings.ToLower(field)), err)
		return s
	}
	s.entries = []mapping.Entry{e}
	return s
}

// kindOfARN is the section an IAMIdentityMapping's spec.arn reads as.
func kindOfARN(s string) mapping.Kind {
	low := strings.ToLower(s)
	switch {
	case strings.Contains(low, ":group/"):
		return mapping.KindGroup
	case strings.Contains(low, ":role/") || strings.Contains(low, ":assumed-role/"):
		return mapping.KindRole
	case strings.Contains(low, ":user/") || strings.HasSuffix(low, ":root"):
		return mapping.KindUser
	}
	if a, err := arn.Parse(s); err == nil && (a.Type == arn.TypeUser || a.Type == arn.TypeRoot) {
		return mapping.KindUser
	}
	return mapping.KindRole
}

// awsIamConfig checks the file's AWSIamConfig with EKS Anywhere's reader
// (awsiamconfig.Parse), keys in EKS Anywhere's spelling.
func (l *fileLinter) awsIamConfig() {
	if l.iamConfigDone {
		return // Parse reads the whole file: one report is enough
	}
	l.iamConfigDone = true
	d, probs, err := awsiamconfig.Parse(l.data, l.file)
	if err != nil {
		l.add(Error, "awsiamconfig", lineInError(err), -1, "", fmt.Sprintf("%v; fix the document (EKS Anywhere and iamgate refuse it)", err))
		return
	}
	var roots []*yaml.Node
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(l.data)))
	for dec.Decode(&doc) == nil {
		if len(doc.Content) > 0 && scalar(mappingOf(doc.Content[0])["kind"]) == awsiamconfig.Kind {
			roots = append(roots, doc.Content[0])
		}
		doc = yaml.Node{}
	}
	src := awsauth.Source{Backend: "MountedFile", Object: l.file, File: l.file}
	var secs []section
	for _, r := range roots {
		if spec := mappingOf(r)["spec"]; spec != nil && spec.Kind == yaml.MappingNode {
			secs = append(secs, sectionsOf(spec, src, []string{mapping.SectionRoles, mapping.SectionUsers})...)
		}
	}
	for i := range secs {
		s := &secs[i]
		s.preRead = true
		for _, e := range d.Mappings {
			if e.Origin.Section == s.name {
				s.entries = append(s.entries, e)
			}
		}
		for _, p := range probs {
			if p.Origin.Section == s.name || p.Origin.Section == "spec."+s.name {
				p.Origin.Section = s.name
				s.pre = append(s.pre, p)
			}
		}
	}
	l.out = append(l.out, checkSections(secs, formatAWSIamConfig, l.o)...)
}
