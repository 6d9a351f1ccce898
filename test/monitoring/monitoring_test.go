package monitoring

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

const root = "../.."

var promql = parser.NewParser(parser.Options{})

// ruleGroups reads the PrometheusRule and parses its spec with rulefmt.
func ruleGroups(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "deploy/monitoring/prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		APIVersion string    `yaml:"apiVersion"`
		Kind       string    `yaml:"kind"`
		Spec       yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.APIVersion != "monitoring.coreos.com/v1" || doc.Kind != "PrometheusRule" {
		t.Fatalf("not a PrometheusRule: %s %s", doc.APIVersion, doc.Kind)
	}
	spec, err := yaml.Marshal(&doc.Spec)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	for _, e := range errs {
		t.Errorf("rulefmt: %v", e)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	return groups
}

// exported runs a real server (hack/metricnames) and returns the names a
// query may use: each family, and a histogram's or summary's series names.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	cmd := exec.Command("go", "run", "./hack/metricnames")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run ./hack/metricnames: %v\n%s", err, stderr.String())
	}
	names := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, kind, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("unexpected line %q", line)
		}
		names[name] = true
		if kind == "histogram" || kind == "summary" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[name+suffix] = true
			}
		}
	}
	if !names["iamgate_reviews_total"] {
		t.Fatalf("the server exports no iamgate_reviews_total; output:\n%s", out)
	}
	return names
}

// metricNames are the metric names expr selects.
func metricNames(expr string) ([]string, error) {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					name = m.Value
				}
			}
			names = append(names, name)
		}
		return nil
	})
	return names, nil
}

// dashboardExprs are the queries of every panel and template variable,
// with Grafana's variables replaced by values PromQL accepts.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "deploy/monitoring/grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	vars := strings.NewReplacer("$__rate_interval", "5m", "$namespace", ".*", "$pod", ".*")
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	var exprs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, vars.Replace(tg.Expr))
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Query)
		if m == nil {
			t.Errorf("template query %q is not label_values(selector, label)", v.Query)
			continue
		}
		exprs = append(exprs, vars.Replace(m[1]))
	}
	return exprs
}

// unknown lists the names exprs use that are not in have.
func unknown(exprs []string, have map[string]bool) ([]string, error) {
	var out []string
	for _, e := range exprs {
		names, err := metricNames(e)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !have[n] && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// TestRulesParseAndLinkRunbook: the rules load in Prometheus, each alert
// has a severity, a summary and a runbook link to its own section.
func TestRulesParseAndLinkRunbook(t *testing.T) {
	groups := ruleGroups(t)
	runbook, err := os.ReadFile(filepath.Join(root, "docs/runbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: needs labels.severity and annotations.summary", r.Alert)
			}
			anchor := "#" + strings.ToLower(r.Alert)
			if !strings.HasSuffix(r.Annotations["runbook_url"], "/docs/runbook.md"+anchor) {
				t.Errorf("%s: runbook_url %q does not point at docs/runbook.md%s", r.Alert, r.Annotations["runbook_url"], anchor)
			}
			if !bytes.Contains(runbook, []byte("\n## "+r.Alert+"\n")) {
				t.Errorf("%s: docs/runbook.md has no section \"## %s\"", r.Alert, r.Alert)
			}
		}
	}
	if alerts == 0 {
		t.Fatal("no alerts")
	}
}

// TestMonitoringNamesExportedMetrics: no rule or dashboard query names a
// metric a running server does not export.
func TestMonitoringNamesExportedMetrics(t *testing.T) {
	have := exported(t)
	var exprs []string
	for _, g := range ruleGroups(t).Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	dash := dashboardExprs(t)
	if len(dash) == 0 {
		t.Fatal("dashboard has no queries")
	}
	exprs = append(exprs, dash...)
	missing, err := unknown(exprs, have)
	if err != nil {
		t.Fatalf("a query does not parse: %v", err)
	}
	if len(missing) > 0 {
		t.Errorf("not exported by the server: %v", missing)
	}
	// The check itself must catch a wrong name, or it proves nothing.
	if bad, _ := unknown([]string{`rate(iamgate_no_such_metric_total[5m]) / on() iamgate_reviews_total`}, have); !slices.Equal(bad, []string{"iamgate_no_such_metric_total"}) {
		t.Errorf("checker missed a bogus name: %v", bad)
	}
}
