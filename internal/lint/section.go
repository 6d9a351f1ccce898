package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// section is one mapRoles/mapUsers/mapGroups/mapAccounts list (or the specs
// of IAMIdentityMapping objects), with what it takes to name file lines.
type section struct {
	name  string
	node  *yaml.Node // the list; nil when absent or unreadable
	src   awsauth.Source
	lines scalarLines
	// pre are problems found before the list could be read (its text is
	// not YAML); entries and pre together are what the parser reports.
	pre []mapping.Problem
	// entries, when set, are already read (IAMIdentityMapping specs):
	// the walk below only adds key findings.
	entries []mapping.Entry
	preRead bool
	// walkInfo are entry lines learnt while reading (IAMIdentityMapping).
	walkInfo map[infoKey]*entryInfo
}

// scalarLines maps lines of a data value (a string holding YAML) to lines
// of the file. A literal block scalar ("|", "|-", "|+", "|2") keeps every
// line break, so its line n is the file line offset+n. A folded (">"),
// quoted or plain scalar joins or escapes lines: those lines cannot be
// mapped, and findings there are put on the key's line (at) and say so.
type scalarLines struct {
	offset int
	// unmapped names the scalar style when lines cannot be mapped.
	unmapped string
	at       int
}

// place turns a line counted in the value (already offset when mapped)
// into a file line and a note for the message.
func (l scalarLines) place(line int) (int, string) {
	if l.unmapped == "" || line <= 0 {
		return line, ""
	}
	return l.at, fmt.Sprintf(" (line %d of the value: it is a %s scalar, whose lines cannot be mapped to the file; write it as a literal block \"|\" to get exact lines)", line, l.unmapped)
}

// scalarLinesOf says how the value node v of a data key maps to file lines.
// File lines are v's own when the document was read with file lines.
func scalarLinesOf(v *yaml.Node) scalarLines {
	switch {
	case v.Style&yaml.LiteralStyle != 0:
		// The indicator's line; content starts on the next line.
		return scalarLines{offset: v.Line}
	case v.Style&yaml.FoldedStyle != 0:
		return scalarLines{unmapped: "folded \">\"", at: v.Line}
	case v.Style&yaml.DoubleQuotedStyle != 0:
		return scalarLines{unmapped: "double-quoted", at: v.Line}
	case v.Style&yaml.SingleQuotedStyle != 0:
		return scalarLines{unmapped: "single-quoted", at: v.Line}
	}
	return scalarLines{unmapped: "plain", at: v.Line}
}

// sectionFromText decodes a data value holding one YAML list. Lines are
// counted in the value; src.LineOffset (set here from lines) shifts them.
func sectionFromText(name, text string, src awsauth.Source, lines scalarLines) section {
	src.LineOffset = lines.offset
	s := section{name: name, src: src, lines: lines}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if err == nil {
		var extra yaml.Node
		if dec.Decode(&extra) != io.EOF {
			err = errors.New("more than one YAML document")
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		// Let the server's parser say it, in its words.
		_, s.pre = awsauth.ParseSectionYAML(name, []byte(text), src)
		for i := range s.pre {
			if p := &s.pre[i]; p.Origin.Line == 0 {
				if n := lineInError(p.Err); n > 0 {
					p.Origin.Line = n + lines.offset
				}
			}
		}
		return s
	}
	if len(doc.Content) > 0 {
		s.node = doc.Content[0]
	}
	return s
}

// read runs the server's parser on s.
func (s *section) read() ([]mapping.Entry, []mapping.Problem) {
	if s.entries != nil || s.preRead {
		return s.entries, s.pre
	}
	if s.pre != nil {
		return nil, s.pre
	}
	return awsauth.ParseSection(s.name, s.node, s.src)
}

// dataKeyFinding reports a ConfigMap data key aws-iam-authenticator and
// iamgate do not read.
func dataKeyFinding(key string, src awsauth.Source, line int) Finding {
	f := Finding{Severity: Warning, Rule: "unknown-data-key", File: src.File, Object: src.Object, Line: line, Index: -1}
	if s := suggest(key, sectionKeys); s != "" {
		f.Severity = Error
		f.Message = fmt.Sprintf("data key %q is not read (keys are case-sensitive here): nothing in it is mapped; rename it to %q", key, s)
		return f
	}
	f.Message = fmt.Sprintf("data key %q is not read by iamgate or aws-iam-authenticator; remove it or move its entries to mapRoles, mapUsers, mapGroups or mapAccounts", key)
	return f
}

var sectionKeys = []string{mapping.SectionRoles, mapping.SectionUsers, mapping.SectionGroups, mapping.SectionAccounts}
