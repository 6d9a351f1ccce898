package awsiamconfig

import (
	"errors"
	"fmt"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

var errUnknown = errors.New("unknown field")

// lineError already names its line and field, so enclosing fields don't
// repeat them.
type lineError struct{ msg string }

func (e *lineError) Error() string { return e.msg }

// eachKey walks a mapping node. Keys match ignoring case, as EKS Anywhere's
// JSON-based decoding does, so a repeat in another case is a duplicate (and
// an error: which one would win is not obvious to a reader). Every error
// names the field (prefix + key as written) and its line.
func eachKey(m *yaml.Node, prefix string, f func(lowerKey string, k, v *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return &lineError{fmt.Sprintf("line %d: field names must be strings", k.Line)}
		}
		name := prefix + k.Value
		lk := strings.ToLower(k.Value)
		if line, dup := seen[lk]; dup {
			return &lineError{fmt.Sprintf("line %d: field %q repeats the field on line %d", k.Line, name, line)}
		}
		seen[lk] = k.Line
		err := f(lk, k, v)
		if err == nil {
			continue
		}
		var le *lineError
		switch {
		case errors.Is(err, errUnknown):
			return &lineError{fmt.Sprintf("line %d: unknown field %q", k.Line, name)}
		case errors.As(err, &le):
			return err
		}
		return &lineError{fmt.Sprintf("line %d: %s: %v", k.Line, name, err)}
	}
	return nil
}

// str reads a string scalar; null reads as "".
func str(v *yaml.Node, dst *string) error {
	if v == nil || v.Kind != yaml.ScalarNode {
		return errors.New("must be a string")
	}
	switch v.ShortTag() {
	case "!!null":
		*dst = ""
	case "!!str":
		*dst = v.Value
	default:
		return fmt.Errorf("must be a string, got %s %q (quote it)", v.ShortTag(), v.Value)
	}
	return nil
}
