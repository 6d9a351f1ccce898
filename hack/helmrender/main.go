// Command helmrender renders a Helm chart to a multi-document YAML stream on
// stdout, as `helm template` would, using the Helm Go packages. It exists
// because no helm binary can be installed on the build machines; the deploy
// tests run it with `go run` and apply its output with server-side dry-run.
//
//	go run . -chart ../../deploy/helm/iamgate [-include-crds] [-values extra.yaml] [-set-string key=value ...] [-namespace kube-system]
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "helmrender: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		chartDir, release, namespace string
		valueFiles, sets             multi
		includeCRDs                  bool
	)
	flag.StringVar(&chartDir, "chart", "", "chart directory")
	flag.StringVar(&release, "release", "iamgate", "release name")
	flag.StringVar(&namespace, "namespace", "kube-system", "release namespace")
	flag.Var(&valueFiles, "values", "values file (repeatable; later wins)")
	flag.Var(&sets, "set-string", "key=value override as a string (repeatable)")
	flag.BoolVar(&includeCRDs, "include-crds", false, "print the chart's crds/ first, as helm template --include-crds")
	flag.Parse()
	if chartDir == "" {
		return fmt.Errorf("-chart is required")
	}
	ch, err := loader.Load(chartDir)
	if err != nil {
		return fmt.Errorf("load chart: %w", err)
	}
	user := map[string]any{}
	for _, f := range valueFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read values: %w", err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("parse values %s: %w", f, err)
		}
		user = chartutil.CoalesceTables(v, user)
	}
	for _, s := range sets {
		if err := strvals.ParseIntoString(s, user); err != nil {
			return fmt.Errorf("parse -set-string %q: %w", s, err)
		}
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, user); err != nil {
		return fmt.Errorf("dependencies: %w", err)
	}
	vals, err := chartutil.ToRenderValues(ch, user,
		chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true},
		chartutil.DefaultCapabilities)
	if err != nil {
		return fmt.Errorf("values: %w", err)
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if includeCRDs {
		for _, crd := range ch.CRDObjects() {
			fmt.Printf("---\n# Source: %s\n%s\n", crd.Filename, strings.TrimSpace(string(crd.File.Data)))
		}
	}
	names := make([]string, 0, len(out))
	for name := range out {
		// NOTES.txt and helpers render to text that is not a manifest.
		if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		body := strings.TrimSpace(out[name])
		if body == "" {
			continue
		}
		fmt.Printf("---\n# Source: %s\n%s\n", name, body)
	}
	return nil
}
