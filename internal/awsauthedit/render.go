package awsauthedit

import (
	"bytes"
	"encoding/json"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
)

// blockStyle is how a block list writes its entries, read from the list so
// a new entry looks like its neighbours.
type blockStyle struct {
	dash      string // indentation before "- "
	key       string // indentation of an entry's keys after the first
	listExtra string // indentation of a nested list's dashes past its key
	flowList  bool   // groups written [a, b]
	quote     yaml.Style
}

// blockStyle reads the style of the last entry (the one a new entry goes
// after); the defaults are eksctl's: lists level with their key, plain
// scalars where YAML allows.
func (d *doc) blockStyle() blockStyle {
	st := blockStyle{key: "  "}
	items := d.items()
	if len(items) == 0 {
		return st
	}
	st.dash = strings.Repeat(" ", d.seq.Column-1)
	st.key = strings.Repeat(" ", d.seq.Column+1)
	last := items[len(items)-1]
	if last.Kind == yaml.MappingNode && last.Column > d.seq.Column {
		st.key = strings.Repeat(" ", last.Column-1)
	}
	if last.Kind == yaml.ScalarNode {
		st.quote = last.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	}
	found := false
	for j := len(items) - 1; j >= 0 && !found; j-- {
		m := items[j]
		if m.Kind != yaml.MappingNode {
			continue
		}
		for k := 0; k+1 < len(m.Content); k += 2 {
			key, v := m.Content[k], m.Content[k+1]
			switch strings.ToLower(key.Value) {
			case "groups":
				if v.Kind == yaml.SequenceNode && !found {
					found = true
					st.flowList = v.Style&yaml.FlowStyle != 0
					if !st.flowList && v.Column > key.Column {
						st.listExtra = strings.Repeat(" ", v.Column-key.Column)
					}
				}
			case "rolearn", "userarn", "grouparn":
				if j == len(items)-1 {
					st.quote = v.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
				}
			}
		}
	}
	return st
}

// render writes e as one block list item, each line ending in nl.
func (st blockStyle) render(e mapping.Entry, nl string) string {
	if e.Kind == mapping.KindAccount {
		q := st.quote
		if q == 0 {
			q = yaml.DoubleQuotedStyle // a bare number would not read as a string in every reader
		}
		return st.dash + "- " + scalar(e.Account, q) + nl
	}
	var lines []string
	field := func(k, v string) { lines = append(lines, k+": "+scalar(v, st.quote)) }
	switch {
	case e.SSO != nil:
		lines = append(lines, "sso:")
		inner := "  "
		lines = append(lines, inner+"permissionSetName: "+scalar(e.SSO.PermissionSetName, st.quote))
		lines = append(lines, inner+"accountID: "+scalar(e.SSO.AccountID, yaml.DoubleQuotedStyle))
		if e.SSO.Partition != "" {
			lines = append(lines, inner+"partition: "+scalar(e.SSO.Partition, st.quote))
		}
	default:
		field(arnKey(e.Kind), e.ARN)
	}
	field("username", e.Username)
	if len(e.Groups) > 0 {
		if st.flowList {
			var gs []string
			for _, g := range e.Groups {
				gs = append(gs, scalar(g, st.quote))
			}
			lines = append(lines, "groups: ["+strings.Join(gs, ", ")+"]")
		} else {
			lines = append(lines, "groups:")
			for _, g := range e.Groups {
				lines = append(lines, st.listExtra+"- "+scalar(g, st.quote))
			}
		}
	}
	if e.UserID != "" {
		field("userid", e.UserID)
	}
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			b.WriteString(st.dash + "- " + l + nl)
			continue
		}
		// Keys of the sso block and nested list items are already
		// indented relative to the entry's keys.
		b.WriteString(st.key + l + nl)
	}
	return b.String()
}

func arnKey(k mapping.Kind) string {
	switch k {
	case mapping.KindUser:
		return "userarn"
	case mapping.KindGroup:
		return "grouparn"
	}
	return "rolearn"
}

// scalar renders s as a YAML string in style q (0: plain where YAML reads
// it back as the same string, double-quoted otherwise).
func scalar(s string, q yaml.Style) string {
	switch q {
	case yaml.SingleQuotedStyle:
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	case yaml.DoubleQuotedStyle:
		return jsonString(s)
	}
	var n yaml.Node
	if err := n.Encode(s); err == nil {
		if out, err := yaml.Marshal(&n); err == nil {
			r := strings.TrimSuffix(string(out), "\n")
			if !strings.Contains(r, "\n") && (r == s) {
				return r
			}
		}
	}
	return jsonString(s)
}

// jsonString is s as a JSON string, which YAML reads as a double-quoted one.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonEntry renders e as a JSON object (keys in eksctl's field order), on
// one line, or, with indent set, over several lines starting at prefix.
func jsonEntry(e mapping.Entry, prefix, indent string) string {
	var v any
	if e.Kind == mapping.KindAccount {
		v = e.Account
	} else {
		var kv []kvPair
		if e.SSO != nil {
			sso := []kvPair{{"permissionSetName", e.SSO.PermissionSetName}, {"accountID", e.SSO.AccountID}}
			if e.SSO.Partition != "" {
				sso = append(sso, kvPair{"partition", e.SSO.Partition})
			}
			kv = append(kv, kvPair{"sso", ordered(sso)})
		} else {
			kv = append(kv, kvPair{arnKey(e.Kind), e.ARN})
		}
		kv = append(kv, kvPair{"username", e.Username})
		if len(e.Groups) > 0 {
			kv = append(kv, kvPair{"groups", e.Groups})
		}
		if e.UserID != "" {
			kv = append(kv, kvPair{"userid", e.UserID})
		}
		v = ordered(kv)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent(prefix, indent)
	}
	_ = enc.Encode(v) // strings, slices and ordered maps always encode
	return strings.TrimSuffix(b.String(), "\n")
}

type kvPair struct {
	k string
	v any
}

// ordered is a JSON object that keeps its key order.
type ordered []kvPair

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(p.k))
		b.WriteByte(':')
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p.v); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimSuffix(vb.Bytes(), []byte("\n")))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
