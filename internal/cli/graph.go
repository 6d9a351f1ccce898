package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/iamgate/iamgate/internal/graph"
	"github.com/iamgate/iamgate/internal/rbacview"
)

const graphLong = `Draw the access graph: IAM principals → Kubernetes users and groups → bindings → roles.

Every entry of every configured backend (-c and, with --kubeconfig, the live
aws-auth ConfigMap or IAMIdentityMappings) is a box on the left, as the
server's own tables list it: refused and shadowed entries are dashed, with
the reason. Arrows go to the username and groups the entry gives, then to the
RoleBindings and ClusterRoleBindings naming them (read from the cluster in the
kubeconfig; --kubeconfig or $KUBECONFIG) and to the Role or ClusterRole each
binds, with its namespace. system:masters is marked: the apiserver allows it
everything without a binding. A templated username ({{SessionName}}) is
joined by a dashed arrow to the User bindings whose names it could render.
Bindings named system:* that only system:authenticated reaches (the
apiserver's defaults) are left out.

Formats: dot (Graphviz: iamgate graph -o dot | dot -Tsvg > access.svg),
mermaid (a flowchart for Markdown), html (one self-contained page with no
network fetch: filter by principal or namespace, click a box to light up its
paths). The kubeconfig needs the ClusterRole in
deploy/rbac/diagnostics-clusterrole.yaml.

Exit status: 0 when drawn, 1 on bad input or when the cluster could not be read.`

const graphExample = `  # The live cluster's aws-auth and RBAC, as a page to open in a browser
  iamgate graph --kubeconfig ~/.kube/config -o html > access.html

  # The server's config file too, rendered by Graphviz
  iamgate graph -c /etc/iamgate/config.yaml --kubeconfig ~/.kube/config -o dot | dot -Tsvg > access.svg

  # Mermaid for a Markdown page (IAM side only: no kubeconfig)
  iamgate graph -c /etc/iamgate/config.yaml -o mermaid`

type graphOptions struct {
	adminFlags
	output string
	title  string
}

// NewGraphCommand is "iamgate graph".
func NewGraphCommand(deps Deps, streams Streams) *cobra.Command {
	var o graphOptions
	cmd := &cobra.Command{
		Use:     "graph [-o dot|mermaid|html]",
		Short:   "Draw IAM principals → Kubernetes users/groups → bindings → roles",
		Long:    graphLong,
		Example: graphExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGraph(cmd.Context(), deps, streams, &o)
		},
	}
	f := cmd.Flags()
	o.adminFlags.addFlags(f)
	f.StringVarP(&o.output, "output", "o", "dot", "output format: dot, mermaid or html")
	f.StringVar(&o.title, "title", "iamgate access graph", "the HTML page's title")
	return cmd
}

func runGraph(ctx context.Context, deps Deps, streams Streams, o *graphOptions) error {
	switch o.output {
	case "dot", "mermaid", "html":
	default:
		return fmt.Errorf("unsupported output format %q (dot, mermaid or html)", o.output)
	}
	c, err := o.adminFlags.config(deps.getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opened, err := openBackends(ctx, c, nil, log, o.wait)
	if err != nil {
		return err
	}
	defer opened.Close()
	var in graph.Input
	for _, t := range opened.Tables {
		in.Sources = append(in.Sources, graph.Source{Backend: t.Name, Entries: t.Table.Entries()})
	}
	rc, haveKube, err := o.restConfig(deps.getenv)
	if err != nil {
		return err
	}
	if haveKube {
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("kubernetes client: %w", err)
		}
		if in.RBAC, err = rbacview.Load(ctx, cs); err != nil {
			return fmt.Errorf("rbac of %s: %w", rc.Host, err)
		}
	}
	g := graph.Build(in)
	switch o.output {
	case "mermaid":
		return g.WriteMermaid(streams.Out)
	case "html":
		return g.WriteHTML(streams.Out, o.title)
	}
	return g.WriteDOT(streams.Out)
}
