package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// maxDocs bounds the documents of one file (kubectl List items count too).
const maxDocs = 10000

// File checks every mapping source in data, read from file ("-" or "" for
// standard input): aws-auth ConfigMaps (several documents, a kubectl List,
// YAML or JSON), IAMIdentityMapping objects, an AWSIamConfig, an iamgate or
// aws-iam-authenticator config file, or a dynamic file. Other documents
// (kustomize and Helm output holds many) are skipped; a file with nothing
// to check is an error finding.
func File(file string, data []byte, o Options) []Finding {
	l := &fileLinter{file: file, data: data, o: o}
	fs := l.run()
	// The YAML parser can name the line after the last one at the end of
	// the input.
	last := bytes.Count(data, []byte("\n")) + 1
	for i := range fs {
		fs[i].Line = min(fs[i].Line, last)
	}
	return fs
}

type fileLinter struct {
	file  string
	data  []byte
	o     Options
	out   []Finding
	crds  []section
	found int
	docs  int
	// iamConfigDone: awsiamconfig.Parse reads the whole file, once.
	iamConfigDone bool
}

func (l *fileLinter) run() []Finding {
	dec := yaml.NewDecoder(bytes.NewReader(l.data))
	var roots []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			l.add(Error, "yaml-syntax", lineInError(err), -1, "", fmt.Sprintf("the file is not valid YAML: %v; fix it (nothing after this point was checked)", err))
			break
		}
		if len(doc.Content) > 0 && !isNullNode(doc.Content[0]) {
			roots = append(roots, doc.Content[0])
		}
	}
	for _, r := range roots {
		l.document(r, "")
	}
	if len(l.crds) > 0 {
		l.out = append(l.out, checkSections(l.crds, formatCRD, l.o)...)
	}
	if l.found == 0 && !slices.ContainsFunc(l.out, func(f Finding) bool { return f.Severity == Error }) {
		l.add(Error, "no-mappings", 0, -1, "", "found no aws-auth ConfigMap, IAMIdentityMapping, AWSIamConfig, config file or dynamic file to check; give one of those (kubectl get configmap aws-auth -n kube-system -o yaml)")
	}
	return sortFindings(l.out)
}

func (l *fileLinter) add(sev Severity, rule string, line, index int, section, msg string) {
	l.out = append(l.out, Finding{Severity: sev, Rule: rule, File: l.file, Line: line, Section: section, Index: index, Message: msg})
}

var lineRe = regexp.MustCompile(`line (\d+)`)

func lineInError(err error) int {
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func isNullNode(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// document checks one top-level document (or List item) by what it is.
func (l *fileLinter) document(r *yaml.Node, in string) {
	l.docs++
	if l.docs > maxDocs || r.Kind != yaml.MappingNode {
		return
	}
	top := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(r.Content); i += 2 {
		if k := r.Content[i]; k.Kind == yaml.ScalarNode {
			top[k.Value] = r.Content[i+1]
			keys[strings.ToLower(k.Value)] = k
		}
	}
	kind := scalar(top["kind"])
	switch {
	case kind == "List" || strings.HasSuffix(kind, "List") && top["items"] != nil:
		if items := top["items"]; items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				l.document(it, kind)
			}
		}
	case kind == "ConfigMap":
		l.configMap(r, top)
	case kind == "IAMIdentityMapping":
		l.found++
		l.crds = append(l.crds, l.crdSection(r, top, len(l.crds)))
	case kind == "AWSIamConfig":
		l.found++
		l.awsIamConfig()
	case kind != "":
		// another object of a rendered bundle
	case keys["server"] != nil || keys["clusterid"] != nil:
		l.found++
		l.configFile(r)
	case hasSectionLikeKey(r):
		// a dynamic file, or data written on its own; a near miss
		// ("mapRole") counts, to be reported
		l.found++
		l.dynamicFile(r)
	}
}

func hasSectionLikeKey(r *yaml.Node) bool {
	for i := 0; i+1 < len(r.Content); i += 2 {
		if suggest(r.Content[i].Value, sectionKeys) != "" {
			return true
		}
	}
	return false
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// configMap checks an aws-auth ConfigMap's data, each value's lines
// offset to the file.
func (l *fileLinter) configMap(r *yaml.Node, top map[string]*yaml.Node) {
	md := mappingOf(top["metadata"])
	name, ns := scalar(md["name"]), scalar(md["namespace"])
	if name != "aws-auth" {
		return
	}
	l.found++
	obj := "kube-system/aws-auth"
	if ns != "" && ns != "kube-system" {
		l.add(Warning, "namespace", lineOf(md["namespace"]), -1, "", fmt.Sprintf("aws-auth in namespace %q is not read: only kube-system/aws-auth is; set metadata.namespace: kube-system", ns))
		obj = ns + "/aws-auth"
	}
	data := top["data"]
	if data == nil || isNullNode(data) {
		l.add(Warning, "empty-aws-auth", lineOf(r), -1, "", "aws-auth has no data: nothing is mapped and nodes cannot join; add mapRoles with the node role")
		return
	}
	if data.Kind != yaml.MappingNode {
		l.add(Error, "data-not-mapping", data.Line, -1, "", "data must be a mapping of keys to strings; the API server refuses this ConfigMap")
		return
	}
	l.configMapData(data, awsauth.Source{Backend: "EKSConfigMap", Object: obj, File: l.file})
}

// isDataFragment reports whether the mapping r holds its sections as
// strings, as ConfigMap data does.
func isDataFragment(r *yaml.Node) bool {
	for i := 0; i+1 < len(r.Content); i += 2 {
		if slices.Contains(awsauth.Sections, r.Content[i].Value) {
			v := r.Content[i+1]
			return v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str"
		}
	}
	return false
}

// configMapData checks the data mapping of an aws-auth ConfigMap.
func (l *fileLinter) configMapData(data *yaml.Node, src awsauth.Source) {
	var secs []section
	for i := 0; i+1 < len(data.Content); i += 2 {
		k, v := data.Content[i], data.Content[i+1]
		if !slices.Contains(awsauth.Sections, k.Value) {
			l.out = append(l.out, dataKeyFinding(k.Value, src, k.Line))
			continue
		}
		if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!str" && !isNullNode(v)) {
			l.add(Error, "data-not-string", v.Line, -1, k.Value, fmt.Sprintf(
				"data.%s must be a string holding the YAML list (write \"%s: |\" and indent the list under it); the API server refuses this ConfigMap", k.Value, k.Value))
			continue
		}
		secs = append(secs, sectionFromText(k.Value, v.Value, src, scalarLinesOf(v)))
	}
	l.out = append(l.out, checkSections(secs, formatAWSAuth, l.o)...)
}

func mappingOf(n *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// sectionsOf returns the mapRoles, mapUsers, mapGroups and mapAccounts
// values of the mapping m, keys matched ignoring case (as the config file
// and dynamic file readers do), lines those of the file.
func sectionsOf(m *yaml.Node, src awsauth.Source, only []string) []section {
	var out []section
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		for _, s := range only {
			if strings.EqualFold(k.Value, s) {
				out = append(out, section{name: s, node: v, src: src})
			}
		}
	}
	return out
}

// configFile checks an iamgate or aws-iam-authenticator config file: what
// config.Parse refuses, then its server.map* sections.
func (l *fileLinter) configFile(r *yaml.Node) {
	if _, err := config.Parse(l.data, l.file); err != nil {
		l.add(Error, "config-file", lineInError(err), -1, "", fmt.Sprintf("%v; the server refuses to start with this config", err))
	}
	src := awsauth.Source{Backend: "MountedFile", Object: l.file, File: l.file}
	for i := 0; i+1 < len(r.Content); i += 2 {
		if strings.EqualFold(r.Content[i].Value, "server") && r.Content[i+1].Kind == yaml.MappingNode {
			l.out = append(l.out, checkSections(sectionsOf(r.Content[i+1], src, sectionKeys), formatAWSAuth, l.o)...)
		}
	}
}

// dynamicFile checks aws-iam-authenticator's dynamic file (JSON or YAML).
// A document whose sections are strings is the data of an aws-auth
// ConfigMap written on its own (mapRoles: |), and read as such.
func (l *fileLinter) dynamicFile(r *yaml.Node) {
	if isDataFragment(r) {
		l.configMapData(r, awsauth.Source{Backend: "EKSConfigMap", Object: "kube-system/aws-auth", File: l.file})
		return
	}
	src := awsauth.Source{Backend: "DynamicFile", Object: l.file, File: l.file}
	for i := 0; i+1 < len(r.Content); i += 2 {
		k := r.Content[i]
		lk := strings.ToLower(k.Value)
		if slices.ContainsFunc(sectionKeys, func(s string) bool { return strings.EqualFold(s, lk) }) || lk == "version" || lk == "lastupdateddatetime" {
			continue
		}
		msg := fmt.Sprintf("unknown key %q: the dynamic file is refused whole", k.Value)
		if s := suggest(k.Value, append(slices.Clone(sectionKeys), "Version", "LastUpdatedDateTime")); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		l.add(Error, "unknown-key", k.Line, -1, "", msg)
	}
	l.out = append(l.out, checkSections(sectionsOf(r, src, sectionKeys), formatAWSAuth, l.o)...)
}
