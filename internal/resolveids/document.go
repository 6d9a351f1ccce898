package resolveids

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// document is one parsed mapping document and where its lists are.
type document struct {
	src  []byte
	root *yaml.Node // the document node
	json bool
	// jsonIndent is the JSON file's indentation ("" when it is on one
	// line), kept so a rewrite differs from the original only by userids.
	jsonIndent string
	sections   []section
}

// embedded is a list held as YAML text in a string value.
type embedded struct {
	str *yaml.Node // the string node in the outer document (nil: none)
	src string     // the text
}

// parseDocument reads a mapping file: an aws-iam-authenticator (or iamgate)
// config file (server.mapRoles/mapUsers), a dynamic file (top-level
// mapRoles/mapUsers, JSON or YAML) or an aws-auth ConfigMap manifest
// (data.mapRoles/mapUsers as YAML text).
func parseDocument(data []byte) (*document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document; resolve-ids edits files holding one")
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the file must be a mapping of keys")
	}
	d := &document{src: data, root: &root, json: isJSON(data), jsonIndent: jsonIndent(data)}
	top := root.Content[0]
	if kind := value(top, "kind"); kind != nil {
		switch kind.Value {
		case "ConfigMap":
			return d, d.configMapSections(value(top, "data"))
		case "AWSIamConfig":
			return nil, errors.New("an EKS Anywhere AWSIamConfig has no userid field (EKS Anywhere would reject the " +
				"document); EKS Anywhere copies its mappings into kube-system/aws-auth: use --configmap instead")
		default:
			return nil, fmt.Errorf("kind %q: resolve-ids edits config files, dynamic files and aws-auth ConfigMaps", kind.Value)
		}
	}
	parent, prefix := top, ""
	if srv := value(top, "server"); srv != nil {
		if srv.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: server must be a mapping", srv.Line)
		}
		parent, prefix = srv, "server."
	}
	for _, sec := range []struct {
		key   string
		roles bool
	}{{"mapRoles", true}, {"mapUsers", false}} {
		if n := value(parent, sec.key); n != nil {
			d.sections = append(d.sections, section{where: prefix + sec.key, roles: sec.roles, seq: n})
		}
	}
	if len(d.sections) == 0 {
		return nil, fmt.Errorf("no %smapRoles or %smapUsers in the file", prefix, prefix)
	}
	return d, nil
}

// configMapSections reads data.mapRoles and data.mapUsers, which hold YAML
// text. lineOffset makes lines count from the file's start when the value is
// a block literal (the usual "mapRoles: |").
func (d *document) configMapSections(data *yaml.Node) error {
	if data == nil || data.Kind != yaml.MappingNode {
		return errors.New("the ConfigMap has no data")
	}
	for _, sec := range []struct {
		key   string
		roles bool
	}{{"mapRoles", true}, {"mapUsers", false}} {
		n := value(data, sec.key)
		if n == nil {
			continue
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			return fmt.Errorf("line %d: data.%s must be a string", n.Line, sec.key)
		}
		s, err := parseEmbedded("data."+sec.key, sec.roles, n.Value)
		if err != nil {
			return err
		}
		if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
			s.lineOffset = n.Line
		}
		s.emb.str = n
		d.sections = append(d.sections, s)
	}
	if len(d.sections) == 0 {
		return errors.New("no data.mapRoles or data.mapUsers in the ConfigMap")
	}
	return nil
}

// parseEmbedded parses the YAML text of a ConfigMap value.
func parseEmbedded(where string, roles bool, text string) (section, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return section{}, fmt.Errorf("%s: parse yaml: %w", where, err)
	}
	return section{where: where, roles: roles, seq: &doc, emb: &embedded{src: text}}, nil
}

// resolve looks up every entry of every section.
func (d *document) resolve(ctx context.Context, l *Lookup, o Options) ([]Change, error) {
	var out []Change
	for i := range d.sections {
		cs, err := resolveSection(ctx, l, &d.sections[i], o)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// render renders the edited document; see renderText. ConfigMap values
// are rendered into their string nodes first, and the manifest around them
// is then rendered from its node tree.
func (d *document) render() ([]byte, error) {
	var outer []edit
	embedded := false
	for _, s := range d.sections {
		if s.emb == nil {
			outer = append(outer, s.edits...)
			continue
		}
		embedded = true
		if len(s.edits) == 0 {
			continue
		}
		text, err := s.emb.render(s.seq, s.edits)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.where, err)
		}
		s.emb.str.Value, s.emb.str.Style = text, yaml.LiteralStyle
	}
	var (
		out []byte
		err error
	)
	switch {
	case d.json:
		out, err = encodeJSON(d.root, d.jsonIndent)
	case embedded:
		out, err = encodeYAML(d.root, indentedSeq(d.root))
	default:
		return renderText(d.src, d.root, outer, indentedSeq(d.root))
	}
	if err != nil {
		return nil, err
	}
	if err := sameAs(d.root, out); err != nil {
		return nil, fmt.Errorf("refusing to write: %w", err)
	}
	return out, nil
}

// render renders an edited list held as text.
func (e *embedded) render(doc *yaml.Node, edits []edit) (string, error) {
	out, err := renderText([]byte(e.src), doc, edits, indentedSeq(doc))
	return string(out), err
}

// indentedSeq reports whether the document writes lists indented under their
// key ("key:\n  - a") rather than level with it ("key:\n- a", kubectl's
// style), judging by the first list below a key (or a top-level list, which
// is indented when its items do not start at column 1).
func indentedSeq(n *yaml.Node) bool {
	var walk func(n *yaml.Node, keyCol int) (bool, bool)
	walk = func(n *yaml.Node, keyCol int) (indented, found bool) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if in, ok := walk(c, 0); ok {
					return in, true
				}
			}
		case yaml.SequenceNode:
			if n.Style&yaml.FlowStyle == 0 && len(n.Content) > 0 {
				return n.Column > keyCol+1, true
			}
		case yaml.MappingNode:
			if n.Style&yaml.FlowStyle != 0 {
				return false, false
			}
			for j := 0; j+1 < len(n.Content); j += 2 {
				if in, ok := walk(n.Content[j+1], n.Content[j].Column-1); ok {
					return in, true
				}
			}
		}
		return false, false
	}
	in, found := walk(n, 0)
	return !found || in
}

// value returns the value of key in mapping m, matching keys ignoring case
// as the config loader does; nil when absent.
func value(m *yaml.Node, key string) *yaml.Node {
	for j := 0; j+1 < len(m.Content); j += 2 {
		if strings.EqualFold(m.Content[j].Value, key) {
			return m.Content[j+1]
		}
	}
	return nil
}

func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}
