package dynamicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
)

// content is one parsed dynamic file.
type content struct {
	spec    mapping.Spec
	version string // the file's "Version", for the load log line
	// skipped are entries left out (the rest apply).
	skipped []mapping.Problem
}

// Top-level keys of aws-iam-authenticator's dynamic file, plus iamgate's
// mapGroups. Matched ignoring case, as its encoding/json decoding does.
const (
	keyRoles       = "maproles"
	keyUsers       = "mapusers"
	keyGroups      = "mapgroups"
	keyAccounts    = "mapaccounts"
	keyVersion     = "version"
	keyLastUpdated = "lastupdateddatetime"
)

// parse reads the file: JSON as aws-iam-authenticator writes it, or the same
// document in YAML. An error means the whole file is unusable and the last
// good mappings stay: invalid YAML/JSON, an empty file (a legitimately empty
// file is "{}"; empty is what a reader sees mid-write), a top level that is
// not a mapping, an unknown or repeated top-level key (a misspelt "mapRole"
// would otherwise drop every role silently), a section of the wrong shape or
// an unknown template. A single bad entry is only skipped.
func parse(data []byte) (*content, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM some editors add
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("file is empty (write {} for no mappings)")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("invalid JSON/YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	top := &doc
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: top level must be an object with mapRoles, mapUsers, mapAccounts", top.Line)
	}
	c := &content{}
	var probs []mapping.Problem
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: keys must be strings", k.Line)
		}
		name := strings.ToLower(k.Value)
		if seen[name] {
			return nil, fmt.Errorf("line %d: key %q given more than once", k.Line, k.Value)
		}
		seen[name] = true
		var ps []mapping.Problem
		switch name {
		case keyRoles:
			c.spec.Roles, ps = mapping.ParseRoles(v)
		case keyUsers:
			c.spec.Users, ps = mapping.ParseUsers(v)
		case keyGroups:
			c.spec.Groups, ps = mapping.ParseGroups(v)
		case keyAccounts:
			c.spec.Accounts, ps = mapping.ParseAccounts(v)
		case keyVersion:
			if v.Kind == yaml.ScalarNode {
				c.version = v.Value
			}
		case keyLastUpdated:
			// aws-iam-authenticator derives a latency metric from it; iamgate
			// logs the load time instead.
		default:
			return nil, fmt.Errorf("line %d: unknown key %q (want mapRoles, mapUsers, mapGroups, mapAccounts, Version, LastUpdatedDateTime)", k.Line, k.Value)
		}
		probs = append(probs, ps...)
	}
	if err := fatal(probs); err != nil {
		return nil, err
	}
	c.skipped = probs
	return c, nil
}

// load turns file data into a Table, or an error when the file must be
// rejected whole. With userIDStrict (dynamicfileUserIDStrict) every entry
// must carry a userid and then matches only the principal with that unique
// ID; entries without one are skipped.
func load(name string, data []byte, userIDStrict bool, opts mapping.Options) (*mapping.Table, *content, error) {
	c, err := parse(data)
	if err != nil {
		return nil, nil, err
	}
	if userIDStrict {
		c.requireUserIDs()
	}
	t, err := mapping.NewTableWithOptions(name, c.spec, opts)
	tp := tableProblems(c.spec, err)
	if err := fatal(tp); err != nil {
		return nil, nil, err
	}
	c.skipped = append(c.skipped, tp...)
	return t, c, nil
}

// fatal returns the problems that reject a file (a bad template, a section
// of the wrong shape, overlapping patterns), joined.
func fatal(ps []mapping.Problem) error {
	var errs []error
	for _, p := range ps {
		if p.Fatal {
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}

// tableProblems restates NewTableWithOptions' error as Problems naming the
// entry by ARN: their Index counts parsed entries, not the ones written.
// Anything that is not about one entry rejects the file.
func tableProblems(s mapping.Spec, err error) []mapping.Problem {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []mapping.Problem
	for _, e := range errs {
		var p mapping.Problem
		if !errors.As(e, &p) {
			out = append(out, mapping.Problem{Section: "table", Index: -1, Err: e, Fatal: true})
			continue
		}
		if id := entryName(s, p.Section, p.Index); id != "" {
			p.Err, p.Index = fmt.Errorf("entry %s: %w", id, p.Err), -1
		}
		out = append(out, p)
	}
	return out
}

func entryName(s mapping.Spec, section string, i int) string {
	switch {
	case i < 0:
		return ""
	case section == mapping.SectionRoles && i < len(s.Roles):
		return roleName(s.Roles[i])
	case section == mapping.SectionUsers && i < len(s.Users):
		return s.Users[i].UserARN
	case section == mapping.SectionGroups && i < len(s.Groups):
		return s.Groups[i].GroupARN
	case section == mapping.SectionAccounts && i < len(s.Accounts):
		return s.Accounts[i]
	}
	return ""
}

func roleName(m mapping.RoleMapping) string {
	if m.SSO != nil {
		return "sso " + m.SSO.PermissionSetName + " in " + m.SSO.AccountID
	}
	return m.RoleARN
}

// requireUserIDs leaves out entries without a userid, as
// dynamicfileUserIDStrict demands. Each is reported and replaced by a
// placeholder (mapping.RoleMapping.Rejected) carrying only what it names, so
// that it still counts as the last entry for its role, user, pattern,
// permission set or group: the table denies that principal rather than let
// an earlier entry for it come back into force. Placeholders for entries
// the parser skipped have no userid either and are kept as they are.
func (c *content) requireUserIDs() {
	skip := func(section, what string) string {
		p := mapping.Problem{Section: section, Index: -1,
			Err: fmt.Errorf("entry %s has no userid, which dynamicfileUserIDStrict requires", what)}
		c.skipped = append(c.skipped, p)
		return p.Error()
	}
	s := &c.spec
	for i, m := range s.Roles {
		if m.UserID == "" && m.Rejected == "" {
			s.Roles[i] = mapping.RoleMapping{RoleARN: m.RoleARN, SSO: m.SSO, Rejected: skip(mapping.SectionRoles, roleName(m))}
		}
	}
	for i, m := range s.Users {
		if m.UserID == "" && m.Rejected == "" {
			s.Users[i] = mapping.UserMapping{UserARN: m.UserARN, Rejected: skip(mapping.SectionUsers, m.UserARN)}
		}
	}
	for i, m := range s.Groups {
		if m.UserID == "" && m.Rejected == "" {
			s.Groups[i] = mapping.GroupMapping{GroupARN: m.GroupARN, Rejected: skip(mapping.SectionGroups, m.GroupARN)}
		}
	}
}
