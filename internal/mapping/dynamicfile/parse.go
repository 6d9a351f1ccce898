package dynamicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/live"
)

// content is one parsed dynamic file.
type content struct {
	entries []mapping.Entry
	version string // the file's "Version", for the load log line
	// problems are the entries left out; a fatal one refuses the file.
	problems []mapping.Problem
}

// Top-level keys of aws-iam-authenticator's dynamic file, plus iamgate's
// mapGroups. Matched ignoring case, as its encoding/json decoding does.
var sections = map[string]string{
	"maproles": mapping.SectionRoles, "mapusers": mapping.SectionUsers,
	"mapgroups": mapping.SectionGroups, "mapaccounts": mapping.SectionAccounts,
}

const (
	keyVersion     = "version"
	keyLastUpdated = "lastupdateddatetime"
)

// parse reads the file at path: JSON as aws-iam-authenticator writes it,
// or the same document in YAML. An error means the whole file is unusable
// and the last good mappings stay: invalid YAML/JSON, an empty file (a
// legitimately empty file is "{}"; empty is what a reader sees mid-write),
// a top level that is not a mapping, an unknown or repeated top-level key
// (a misspelt "mapRole" would otherwise drop every role silently). Entry
// problems are returned for live.Holder to judge: a section of the wrong
// shape or an unknown template refuses the file, a bad entry is skipped.
func parse(backend, path string, data []byte) (*content, error) {
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
	src := awsauth.Source{Backend: backend, Object: path, File: path}
	err := awsauth.EachKey(top, "", "key", func(name string, k, v *yaml.Node) error {
		if section, ok := sections[name]; ok {
			es, ps := awsauth.ParseSection(section, v, src)
			c.entries, c.problems = append(c.entries, es...), append(c.problems, ps...)
			return nil
		}
		switch name {
		case keyVersion:
			if v.Kind == yaml.ScalarNode {
				c.version = v.Value
			}
		case keyLastUpdated:
			// aws-iam-authenticator derives a latency metric from it; iamgate
			// logs the load time instead.
		default:
			return &awsauth.LineError{Msg: fmt.Sprintf("line %d: unknown key %q (want mapRoles, mapUsers, mapGroups, mapAccounts, Version, LastUpdatedDateTime)", k.Line, k.Value)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// load turns file data into a table (live.Holder.Build), or an error when
// the file must be rejected whole. With userIDStrict
// (dynamicfileUserIDStrict) every entry must carry a userid and then
// matches only the principal with that unique ID; entries without one are
// skipped.
func load(h *live.Holder, path string, data []byte, userIDStrict bool) (live.Outcome, *content, error) {
	c, err := parse(h.Name(), path, data)
	if err != nil {
		return live.Outcome{}, nil, err
	}
	if userIDStrict {
		c.requireUserIDs()
	}
	out := h.Build(c.entries, c.problems)
	if out.Table == nil {
		return out, c, out.Err()
	}
	return out, c, nil
}

// requireUserIDs refuses entries without a userid, as
// dynamicfileUserIDStrict demands. Each is reported and stays, refused and
// carrying only what it names, so that it still counts as the last entry
// for its role, user, pattern, permission set or group: the table denies
// that principal rather than let an earlier entry for it come back into
// force. Entries the parser refused already stay as they are.
func (c *content) requireUserIDs() {
	for i, e := range c.entries {
		if e.UserID != "" || e.Refused != nil || e.Kind == mapping.KindAccount {
			continue
		}
		err := errors.New("no userid, which dynamicfileUserIDStrict requires")
		c.problems = append(c.problems, mapping.Problem{Origin: e.Origin, Names: e.Names(), Err: err})
		c.entries[i] = mapping.Entry{Kind: e.Kind, ARN: e.ARN, SSO: e.SSO, Origin: e.Origin, Refused: err}
	}
}
