package awsauth

import (
	"errors"
	"fmt"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// ErrUnknown, returned by an EachKey callback, reports the key as unknown.
var ErrUnknown = errors.New("unknown key")

// LineError already names its line and key, so enclosing keys don't repeat
// them.
type LineError struct{ Msg string }

func (e *LineError) Error() string { return e.Msg }

// EachKey walks the mapping node m strictly, the way every document iamgate
// reads in this format is read (config file, AWSIamConfig): keys match
// ignoring case, as aws-iam-authenticator's and EKS Anywhere's decoders do,
// so a repeat in another case is a duplicate and an error (which one wins
// is not obvious to a reader); keys must be strings; aliases are followed.
// f gets the lower-cased key. Every error names the key (prefix + key as
// written) and its line; noun is what the document calls its keys ("key",
// "field").
func EachKey(m *yaml.Node, prefix, noun string, f func(lowerKey string, k, v *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return &LineError{fmt.Sprintf("line %d: %s names must be strings", k.Line, noun)}
		}
		name := prefix + k.Value
		lk := strings.ToLower(k.Value)
		if line, dup := seen[lk]; dup {
			return &LineError{fmt.Sprintf("line %d: %s %q repeats the %s on line %d", k.Line, noun, name, noun, line)}
		}
		seen[lk] = k.Line
		err := f(lk, k, v)
		if err == nil {
			continue
		}
		var le *LineError
		switch {
		case errors.Is(err, ErrUnknown):
			return &LineError{fmt.Sprintf("line %d: unknown %s %q", k.Line, noun, name)}
		case errors.As(err, &le):
			return err
		}
		return &LineError{fmt.Sprintf("line %d: %s %q: %v", k.Line, noun, name, err)}
	}
	return nil
}
