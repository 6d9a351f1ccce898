package lint

import (
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// checkSections reads and checks the sections of one source (one
// ConfigMap, one file) together, as one backend's table.
func checkSections(secs []section, f format, o Options) []Finding {
	var (
		entries  []mapping.Entry
		problems []mapping.Problem
		keyFs    []Finding
	)
	infos := map[infoKey]*entryInfo{}
	lines := map[string]scalarLines{}
	for i := range secs {
		s := &secs[i]
		es, ps := s.read()
		entries, problems = append(entries, es...), append(problems, ps...)
		kf, inf := walkSection(s, f)
		keyFs = append(keyFs, kf...)
		for k, v := range inf {
			infos[k] = v
		}
		for k, v := range s.walkInfo {
			infos[k] = v
		}
		lines[s.name] = s.lines
	}
	fs := append(keyFs, check(entries, problems, infos, o)...)
	for i := range fs {
		if l, ok := lines[fs[i].Section]; ok {
			var note string
			fs[i].Line, note = l.place(fs[i].Line)
			fs[i].Message += note
		}
	}
	return sortFindings(dropCovered(fs))
}

// check judges one source's entries: the problems reading them, what
// rules.Build refuses, then the entry, value and table rules.
func check(entries []mapping.Entry, problems []mapping.Problem, infos map[infoKey]*entryInfo, o Options) []Finding {
	var fs []Finding
	refused := map[infoKey]bool{}
	for _, p := range problems {
		fs = append(fs, fromProblem(p, infos[infoKey{p.Origin.Section, p.Origin.Index}]))
		refused[infoKey{p.Origin.Section, p.Origin.Index}] = true
	}
	ro := o.Rules
	if ro.Logger == nil {
		ro.Logger = quiet // Build's notes are for the server's log
	}
	t, built := rules.Build("lint", entries, ro)
	for _, p := range built {
		info := infos[infoKey{p.Origin.Section, p.Origin.Index}]
		fs = append(fs, fromProblem(fieldLine(p, info), info))
		refused[infoKey{p.Origin.Section, p.Origin.Index}] = true
	}
	// Values are checked on every entry as written, refused ones too: a
	// placeholder is why an entry was refused.
	seen := map[infoKey]bool{}
	for _, e := range entries {
		k := infoKey{e.Origin.Section, e.Origin.Index}
		if seen[k] {
			continue
		}
		seen[k] = true
		fs = append(fs, valueRules(e, infos[k])...)
		if e.Refused == nil && !refused[k] {
			fs = append(fs, entryRules(e, infos[k], o)...)
		}
	}
	for k, info := range infos {
		if !seen[k] { // unreadable entries: values as written
			fs = append(fs, valueRules(mapping.Entry{Origin: originOf(entries, problems, k)}, info)...)
		}
	}
	fs = append(fs, duplicates(t, entries, infos)...)
	fs = append(fs, shadowedEarlier(t, o.Earlier, infos)...)
	return fs
}

// originOf finds where the entry k is, from a problem about it.
func originOf(entries []mapping.Entry, problems []mapping.Problem, k infoKey) mapping.Origin {
	for _, p := range problems {
		if p.Origin.Section == k.section && p.Origin.Index == k.index {
			return p.Origin
		}
	}
	if len(entries) > 0 {
		o := entries[0].Origin
		o.Section, o.Index, o.Line = k.section, k.index, 0
		return o
	}
	for _, p := range problems {
		o := p.Origin
		o.Section, o.Index, o.Line = k.section, k.index, 0
		return o
	}
	return mapping.Origin{Section: k.section, Index: k.index}
}

// dropCovered leaves out the server's own message about an entry when a
// more specific error already says what is wrong with it (a misspelt key,
// a placeholder): one problem, one line.
func dropCovered(fs []Finding) []Finding {
	specific := map[infoKey]bool{}
	for _, f := range fs {
		if f.Severity == Error && f.Index >= 0 && covers[f.Rule] {
			specific[infoKey{f.Section, f.Index}] = true
		}
	}
	out := fs[:0]
	for _, f := range fs {
		k := infoKey{f.Section, f.Index}
		if generic[f.Rule] && f.Index >= 0 && specific[k] {
			if !f.fatal {
				continue
			}
			if i := slices.IndexFunc(fs, func(g Finding) bool { return g.Rule == "placeholder" && g.Section == k.section && g.Index == k.index }); i >= 0 {
				if !strings.HasSuffix(fs[i].Message, refusesSource) {
					fs[i].Message += refusesSource
				}
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

const refusesSource = " (iamgate refuses this whole source and keeps its last good mappings)"

// covers are the rules whose error explains an entry's refusal better
// than the parser's message; generic are the parser-derived rules they
// replace.
var (
	covers = map[string]bool{
		"unknown-key": true, "wrong-section-key": true, "placeholder": true,
		"instance-profile-arn": true, "account-id": true,
	}
	generic = map[string]bool{
		"unknown-field": true, "invalid-entry": true, "malformed-arn": true,
		"role-in-mapusers": true, "user-in-maproles": true, "wrong-type": true,
		"invalid-account": true, "unknown-template": true, "bad-template": true,
	}
)
