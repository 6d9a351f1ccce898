package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/mapping"
)

// NewMappingsCommand lists the mappings every configured backend decides
// with, as the server loads them.
func NewMappingsCommand(deps Deps, streams Streams) *cobra.Command {
	af := &adminFlags{}
	var output string
	cmd := &cobra.Command{
		Use:   "mappings [-c CONFIG] [--kubeconfig FILE] [-o table|json|yaml]",
		Short: "List the effective mappings of every backend, in order",
		Long: `List every mapping of every configured backend, in backendMode order, read and
built exactly as the server builds them: where each entry is written (backend,
object, section, line), what it matches, the username and groups it gives,
and whether it is in effect. Entries the server refuses, and entries shadowed
by a later entry for the same principal, are listed with the reason.

The backends come from -c (the server's config file) and --backend-mode; with
only --kubeconfig, the cluster's kube-system/aws-auth is read.`,
		Example: `  iamgate mappings --kubeconfig ~/.kube/config
  iamgate mappings -c /etc/iamgate/config.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMappings(cmd.Context(), af, output, deps, streams)
		},
	}
	af.addFlags(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// listedRow is one entry of `iamgate mappings -o json|yaml`.
type listedRow struct {
	Backend  string   `json:"backend"`
	Object   string   `json:"object,omitempty"`
	File     string   `json:"file,omitempty"`
	Section  string   `json:"section"`
	Index    int      `json:"index"`
	Line     int      `json:"line,omitempty"`
	Kind     string   `json:"kind"`
	Matches  string   `json:"matches"`
	Username string   `json:"username,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	State    string   `json:"state"` // active, refused or shadowed
	Reason   string   `json:"reason,omitempty"`
}

func runMappings(ctx context.Context, af *adminFlags, output string, deps Deps, streams Streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if output != "table" && output != "json" && output != "yaml" {
		return fmt.Errorf("--output %q: want table, json or yaml", output)
	}
	cfg, err := af.config(deps.getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(streams.Err, &slog.HandlerOptions{Level: slog.LevelError}))
	o, err := openBackends(ctx, cfg, nil, log, af.wait)
	if err != nil {
		return err
	}
	defer o.Close()
	rows := []listedRow{}
	for _, t := range o.Tables {
		for _, l := range t.Table.Entries() {
			e := l.Entry
			r := listedRow{Backend: t.Name, Object: e.Origin.Object, File: e.Origin.File, Section: e.Origin.Section,
				Index: e.Origin.Index, Line: e.Origin.Line, Kind: e.Kind.String(), Matches: e.Names(),
				Username: e.Username, Groups: e.Groups, State: "active", Reason: l.Why}
			if !l.Active {
				r.State = "refused"
				if l.Verdict == mapping.VerdictShadowed {
					r.State = "shadowed"
				}
			}
			if e.Kind == mapping.KindAccount && r.Username == "" {
				r.Username = "(the caller's ARN)"
			}
			rows = append(rows, r)
		}
	}
	if output != "table" {
		return printObject(streams.Out, rows, output)
	}
	return printMappingsTable(streams.Out, rows)
}

func printMappingsTable(w io.Writer, rows []listedRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKEND\tORIGIN\tKIND\tMATCHES\tUSERNAME\tGROUPS\tSTATE")
	for _, r := range rows {
		where := r.Object
		if r.File != "" {
			where = r.File
		}
		origin := fmt.Sprintf("%s %s[%d]", where, r.Section, r.Index)
		if r.Line > 0 {
			origin += fmt.Sprintf(" line %d", r.Line)
		}
		state := r.State
		if r.Reason != "" {
			state += ": " + r.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Backend, strings.TrimSpace(origin), r.Kind, r.Matches,
			r.Username, strings.Join(r.Groups, ","), state)
	}
	return tw.Flush()
}
