package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/lint"
)

const lintLong = `Check aws-auth mappings before they reach a cluster.

Reads each FILE ("-" or no FILE: standard input): an aws-auth ConfigMap
manifest (what "kubectl get configmap aws-auth -n kube-system -o yaml" prints,
kustomize or Helm output, several YAML documents or a kubectl List), an
aws-iam-authenticator or iamgate config file, a dynamic file, an EKS Anywhere
AWSIamConfig, or IAMIdentityMapping manifests. With --live it reads the
cluster's kube-system/aws-auth ConfigMap and IAMIdentityMapping objects, and
also reports groups no RoleBinding or ClusterRoleBinding names.

Every finding names the file and the line in that file (inside a
"mapRoles: |" block, the file's line), a severity, and a stable rule id; the
rules are in docs/lint.md.

Exit status: 0 no errors (with --strict: no warnings either), 1 findings at
that level, 2 the input could not be read.

Examples:

  # The live ConfigMap, as kubectl prints it:
  kubectl get configmap aws-auth -n kube-system -o yaml | iamgate lint -

  # A manifest in the repository, warnings fail too (CI):
  iamgate lint --strict deploy/aws-auth.yaml

  # The cluster itself, with RBAC checks, as JSON:
  iamgate lint --live --kubeconfig ~/.kube/config -o json

  # What blocks a move to EKS access entries:
  iamgate lint --target access-entries aws-auth.yaml`

type lintOptions struct {
	admin  adminFlags
	live   bool
	output string
	strict bool
	target string
}

// NewLintCommand is "iamgate lint".
func NewLintCommand(deps Deps, streams Streams) *cobra.Command {
	o := &lintOptions{}
	cmd := &cobra.Command{
		Use:           "lint [FILE...|-]",
		Short:         "Check aws-auth mappings for mistakes before they reach a cluster",
		Long:          lintLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLint(cmd, deps, streams, o, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.admin.kubeconfig, "kubeconfig", "", "kubeconfig for --live (default: $KUBECONFIG, ~/.kube/config)")
	fs.StringVarP(&o.admin.configFile, "config", "c", "", "the server's config `file`: with --live its mappings come first (entries they already decide are reported)")
	fs.BoolVar(&o.live, "live", false, "check the cluster's aws-auth ConfigMap and IAMIdentityMapping objects, and the RBAC bindings of their groups")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 on warnings too")
	fs.StringVar(&o.target, "target", "", "also report what blocks a move to this target: access-entries")
	return cmd
}

func runLint(cmd *cobra.Command, deps Deps, streams Streams, o *lintOptions, args []string) error {
	if o.output != "text" && o.output != "json" {
		return &exitError{code: 2, err: fmt.Errorf("--output %q: want text or json", o.output)}
	}
	if o.target != "" && o.target != lint.TargetAccessEntries {
		return &exitError{code: 2, err: fmt.Errorf("--target %q: the only target is %s", o.target, lint.TargetAccessEntries)}
	}
	opts := lint.Options{Target: o.target}
	var fs []lint.Finding
	if o.live {
		live, err := lintLive(cmd.Context(), deps, o, opts)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("lint --live: %w", err)}
		}
		fs = append(fs, live...)
	}
	if len(args) == 0 && !o.live {
		args = []string{"-"}
	}
	for _, a := range args {
		data, name, err := readLintInput(a, streams.In)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		fs = append(fs, lint.File(name, data, opts)...)
	}
	if err := printFindings(streams.Out, fs, o.output); err != nil {
		return &exitError{code: 2, err: err}
	}
	if lint.HasError(fs, o.strict) {
		return &exitError{code: 1, err: errors.New(summary(fs))}
	}
	return nil
}

// maxLintInput bounds one input; aws-auth is far smaller (the API caps a
// ConfigMap at 1 MiB).
const maxLintInput = 16 << 20

func readLintInput(arg string, in io.Reader) ([]byte, string, error) {
	name := arg
	var r io.Reader
	if arg == "-" {
		name, r = "<stdin>", in
	} else {
		f, err := os.Open(arg)
		if err != nil {
			return nil, "", fmt.Errorf("lint: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxLintInput+1))
	if err != nil {
		return nil, "", fmt.Errorf("lint: read %s: %w", name, err)
	}
	if len(data) > maxLintInput {
		return nil, "", fmt.Errorf("lint: %s is larger than %d MiB", name, maxLintInput>>20)
	}
	return data, name, nil
}

func printFindings(w io.Writer, fs []lint.Finding, output string) error {
	if output == "json" {
		if fs == nil {
			fs = []lint.Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(fs)
	}
	for _, f := range fs {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	return nil
}

func summary(fs []lint.Finding) string {
	var e, w int
	for _, f := range fs {
		if f.Severity == lint.Error {
			e++
		} else {
			w++
		}
	}
	return fmt.Sprintf("lint: %d errors, %d warnings", e, w)
}
