package resolveids

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// encodeJSON renders a node tree parsed from JSON back as JSON, keeping key
// order (a map would lose it), with the given indentation ("" for one line).
// aws-iam-authenticator reads dynamic files with encoding/json, so a JSON
// file must stay JSON.
func encodeJSON(n *yaml.Node, indent string) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, n); err != nil {
		return nil, err
	}
	if indent == "" {
		b.WriteByte('\n')
		return b.Bytes(), nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", indent); err != nil {
		return nil, fmt.Errorf("render json: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("render json: empty document")
		}
		return writeJSON(b, n.Content[0])
	case yaml.MappingNode:
		b.WriteByte('{')
		for j := 0; j+1 < len(n.Content); j += 2 {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, n.Content[j].Value)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[j+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for j, c := range n.Content {
			if j > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			writeJSONString(b, n.Value)
		case "!!int", "!!float", "!!bool", "!!null":
			// Read from JSON, so already a JSON literal; check anyway.
			if !json.Valid([]byte(n.Value)) {
				return fmt.Errorf("render json: line %d: %q is not a JSON value", n.Line, n.Value)
			}
			b.WriteString(n.Value)
		default:
			return fmt.Errorf("render json: line %d: unsupported value %s", n.Line, n.ShortTag())
		}
	default:
		return fmt.Errorf("render json: line %d: unsupported node", n.Line)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode adds a newline
}

// jsonIndent returns the indentation of the first indented line of a JSON
// file, or "" when the file is on one line.
func jsonIndent(data []byte) string {
	for _, line := range strings.Split(string(data), "\n")[1:] {
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" {
			continue
		}
		if ind := line[:len(line)-len(trimmed)]; ind != "" {
			return ind
		}
		return "  "
	}
	return ""
}
