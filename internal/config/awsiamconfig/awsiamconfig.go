// Package awsiamconfig reads the AWSIamConfig documents EKS Anywhere writes
// (apiVersion anywhere.eks.amazonaws.com/v1alpha1), so "iamgate server
// --awsiamconfig FILE" can serve their mappings without anyone translating
// them into another format first.
//
// The document carries no cluster id (EKS Anywhere generates one), so the
// server takes it from -i or its config file.
//
// Parsing is strict: a misspelt spec field would otherwise drop a mapping
// silently. Mapping entries go through the same parser as mapRoles/mapUsers
// in a config file, so an entry is skipped (or fatal) for exactly the same
// reasons in both places.
package awsiamconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// The type EKS Anywhere writes.
const (
	APIVersion = "anywhere.eks.amazonaws.com/v1alpha1"
	Kind       = "AWSIamConfig"
)

// DefaultPartition is what EKS Anywhere assumes when spec.partition is unset.
const DefaultPartition = "aws"

// Backend modes EKS Anywhere knows. It refuses MountedFile (it cannot mount
// a file into the authenticator it deploys), and so does this package, so a
// document loads here exactly when EKS Anywhere accepts it.
var backendModes = []string{"EKSConfigMap", "CRD", "DynamicFile"}

var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// Doc is one AWSIamConfig document.
type Doc struct {
	// Name and Namespace are metadata.name and metadata.namespace.
	Name, Namespace string
	// Region is spec.awsRegion.
	Region string
	// BackendMode is spec.backendMode, in order.
	BackendMode []string
	// Partition is spec.partition, DefaultPartition when unset.
	Partition string
	// Mappings are the entries of spec.mapRoles and spec.mapUsers, refused
	// ones included (Entry.Refused: they must reach the table with the rest,
	// to deny the principal they name); problems are reported apart.
	Mappings []mapping.Entry
	// Line is the line of the document's first key, for messages.
	Line int
}

// Load reads path and returns its one AWSIamConfig document. The file may
// hold other documents too (an EKS Anywhere cluster spec holds Cluster,
// datacenter and machine configs alongside); those are ignored, but exactly
// one AWSIamConfig is required.
//
// Problems are entries that were left out, as awsauth reports them, with
// their line in path. Callers must
// refuse the document when mapping.HasFatal(problems) is true, as they do for
// a config file. Every error names path.
func Load(path string) (*Doc, []mapping.Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read awsiamconfig: %w", err)
	}
	d, probs, err := Parse(data, path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, probs, nil
}

// Parse is Load for data already read from file ("" when there is none,
// for entry origins). Errors give line numbers but no file name.
func Parse(data []byte, file string) (*Doc, []mapping.Problem, error) {
	docs, err := decodeAll(data)
	if err != nil {
		return nil, nil, err
	}
	var (
		picked []*yaml.Node
		kinds  []string
	)
	for _, root := range docs {
		kind, apiVersion, err := typeOf(root)
		if err != nil {
			return nil, nil, err
		}
		if kind != Kind {
			if kind == "" {
				kind = fmt.Sprintf("(no kind, line %d)", root.Line)
			}
			kinds = append(kinds, kind)
			continue
		}
		if apiVersion != APIVersion {
			return nil, nil, fmt.Errorf("line %d: %s has apiVersion %q, want %q", root.Line, Kind, apiVersion, APIVersion)
		}
		picked = append(picked, root)
	}
	switch len(picked) {
	case 0:
		if len(kinds) == 0 {
			return nil, nil, fmt.Errorf("no %s document: the file is empty", Kind)
		}
		return nil, nil, fmt.Errorf("no %s document (apiVersion %s) found; the file holds: %s",
			Kind, APIVersion, strings.Join(kinds, ", "))
	case 1:
		return parseDoc(picked[0], file)
	default:
		lines := make([]string, len(picked))
		for i, p := range picked {
			lines[i] = fmt.Sprint(p.Line)
		}
		return nil, nil, fmt.Errorf("%d %s documents (at lines %s); exactly one is required",
			len(picked), Kind, strings.Join(lines, ", "))
	}
}

// decodeAll returns the root node of every non-empty document.
func decodeAll(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse yaml: %w", err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // "---" followed by nothing but comments
		}
		if root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: a document must be a mapping of keys", root.Line)
		}
		out = append(out, root)
	}
}

// typeOf returns a document's kind and apiVersion ("" when absent).
func typeOf(root *yaml.Node) (kind, apiVersion string, err error) {
	err = eachKey(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "kind":
			return str(v, &kind)
		case "apiversion":
			return str(v, &apiVersion)
		}
		return nil
	})
	return kind, apiVersion, err
}

// parseDoc reads one AWSIamConfig document.
func parseDoc(root *yaml.Node, file string) (*Doc, []mapping.Problem, error) {
	d := &Doc{Line: root.Line}
	var (
		spec, mapRoles, mapUsers *yaml.Node
		probs                    []mapping.Problem
	)
	err := eachKey(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "apiversion", "kind":
			return nil // checked by Parse
		case "metadata":
			return readMetadata(v, d)
		case "spec":
			if v.Kind != yaml.MappingNode {
				return errors.New("must be a mapping")
			}
			spec = v
			return nil
		case "status":
			return nil // written by the EKS Anywhere controller; nothing to use
		}
		return errUnknown
	})
	if err != nil {
		return nil, nil, err
	}
	if spec == nil {
		return nil, nil, fmt.Errorf("line %d: %s has no spec", root.Line, Kind)
	}
	err = eachKey(spec, "spec.", func(key string, k, v *yaml.Node) error {
		switch key {
		case "awsregion":
			return str(v, &d.Region)
		case "backendmode":
			return readBackendMode(v, &d.BackendMode)
		case "partition":
			if err := str(v, &d.Partition); err != nil {
				return err
			}
			if d.Partition != "" && !slices.Contains(partitions, d.Partition) {
				return fmt.Errorf("unknown partition %q (known: %s)", d.Partition, strings.Join(partitions, ", "))
			}
			return nil
		case "maproles":
			mapRoles = v
			return nil
		case "mapusers":
			mapUsers = v
			return nil
		case "clusterid":
			return errors.New("is not part of AWSIamConfig as EKS Anywhere writes it today; " +
				"give the cluster id with iamgate's -i flag or config file")
		}
		return errUnknown
	})
	if err != nil {
		return nil, nil, err
	}
	if d.Region == "" {
		return nil, nil, fmt.Errorf("line %d: spec.awsRegion is required", spec.Line)
	}
	if len(d.BackendMode) == 0 {
		return nil, nil, fmt.Errorf("line %d: spec.backendMode is required", spec.Line)
	}
	if d.Partition == "" {
		d.Partition = DefaultPartition
	}
	// Entries are read last: whether one is usable depends on spec.partition,
	// wherever that key sits.
	src := awsauth.Source{Backend: "MountedFile", Object: file, File: file}
	for _, sec := range []struct {
		name string
		n    *yaml.Node
	}{{mapping.SectionRoles, mapRoles}, {mapping.SectionUsers, mapUsers}} {
		if sec.n == nil {
			continue
		}
		es, ps := awsauth.ParseSection(sec.name, sec.n, src)
		es, ps = inPartition(es, ps, d.Partition)
		d.Mappings = append(d.Mappings, es...)
		probs = append(probs, ps...)
	}
	return d, specProblems(probs), nil
}

// specProblems names the sections as they appear in the document.
func specProblems(ps []mapping.Problem) []mapping.Problem {
	for i := range ps {
		ps[i].Origin.Section = "spec." + ps[i].Origin.Section
	}
	return ps
}

// inPartition moves the entries of one section whose ARN is in another partition than
// spec.partition to the problems: STS in one partition never reports a
// principal of another, so such an entry can only be a mistake.
func inPartition(es []mapping.Entry, ps []mapping.Problem, partition string) ([]mapping.Entry, []mapping.Problem) {
	var kept []mapping.Entry
	for _, e := range es {
		if got := arnPartition(e.ARN); got != "" && got != partition {
			if e.Refused == nil {
				ps = append(ps, mapping.Problem{Origin: e.Origin, Names: e.ARN,
					Err: fmt.Errorf("%s is in partition %q but spec.partition is %q", arnKeys[e.Kind], got, partition)})
			}
			continue
		}
		kept = append(kept, e)
	}
	slices.SortStableFunc(ps, func(a, b mapping.Problem) int { return a.Origin.Index - b.Origin.Index })
	return kept, ps
}

var arnKeys = map[mapping.Kind]string{mapping.KindRole: "rolearn", mapping.KindUser: "userarn"}

// arnPartition returns the partition of "arn:PARTITION:...", or "".
func arnPartition(a string) string {
	parts := strings.SplitN(a, ":", 3)
	if len(parts) < 3 || !strings.EqualFold(parts[0], "arn") {
		return ""
	}
	return strings.ToLower(parts[1])
}

func readMetadata(v *yaml.Node, d *Doc) error {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return errors.New("must be a mapping")
	}
	return eachKey(v, "metadata.", func(key string, k, v *yaml.Node) error {
		switch key {
		case "name":
			return str(v, &d.Name)
		case "namespace":
			return str(v, &d.Namespace)
		}
		return nil // labels, annotations and the like: not ours to judge
	})
}

func readBackendMode(v *yaml.Node, dst *[]string) error {
	if v.Kind != yaml.SequenceNode {
		return errors.New("must be a list of backend names")
	}
	var out []string
	for i, e := range v.Content {
		var s string
		if err := str(e, &s); err != nil {
			return fmt.Errorf("[%d] %w", i, err)
		}
		switch {
		case s == "MountedFile":
			return fmt.Errorf("[%d]: EKS Anywhere does not support the MountedFile backend in an %s", i, Kind)
		case !slices.Contains(backendModes, s):
			return fmt.Errorf("[%d]: unknown backend %q (known: %s)", i, s, strings.Join(backendModes, ", "))
		case slices.Contains(out, s):
			return fmt.Errorf("[%d]: %q is listed twice", i, s)
		}
		out = append(out, s)
	}
	*dst = out
	return nil
}

var errUnknown = awsauth.ErrUnknown

// eachKey walks a mapping of the document strictly (awsauth.EachKey).
func eachKey(m *yaml.Node, prefix string, f func(lowerKey string, k, v *yaml.Node) error) error {
	return awsauth.EachKey(m, prefix, "field", f)
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
