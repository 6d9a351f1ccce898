package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// aiaGlobalAnnotation marks aws-iam-authenticator's global flags (-c, -l,
// --feature-gates) on the commands that share them, so that help lists them
// apart from the command's own flags, as kubectl keeps its global options
// apart. -i stays with each command's flags: it is the one most people need.
const aiaGlobalAnnotation = "iamgate/aia-global"

// aiaGlobalNames are the annotated flags, in the order help lists them.
var aiaGlobalNames = []string{"config", "log-format", "feature-gates"}

// aiaCommands are the commands iamgate shares with aws-iam-authenticator;
// each accepts its global flags, before or after the command name.
var aiaCommands = []string{"token", "verify", "server", "init", "version"}

func markAIAGlobals(fs *pflag.FlagSet) {
	for _, n := range aiaGlobalNames {
		if fs.Lookup(n) != nil {
			_ = fs.SetAnnotation(n, aiaGlobalAnnotation, []string{"true"})
		}
	}
}

func isAIAGlobal(f *pflag.Flag) bool { return len(f.Annotations[aiaGlobalAnnotation]) > 0 }

// usage is cobra's usage layout with two changes: a boolean reads "--force",
// not pflag's "--force[=true|false]", and aws-iam-authenticator's global
// flags get a section of their own. It is plain Go rather than a template:
// text/template over *cobra.Command would keep the linker from dropping
// unused methods.
func usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	fmt.Fprint(w, "Usage:")
	if c.Runnable() {
		fmt.Fprintf(w, "\n  %s", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\n  %s [command]", c.CommandPath())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "\n\nAliases:\n  %s", c.NameAndAliases())
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\n\nExamples:\n%s", strings.TrimRight(c.Example, " \n"))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprint(w, "\n\nAvailable Commands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(w, "\n  %-*s %s", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	local := c.LocalFlags()
	if own := flagUsages(local, func(f *pflag.Flag) bool { return !isAIAGlobal(f) }); own != "" {
		fmt.Fprintf(w, "\n\nFlags:\n%s", own)
	}
	if g := flagUsages(local, isAIAGlobal); g != "" {
		fmt.Fprintf(w, "\n\naws-iam-authenticator's global flags (also accepted before %q):\n%s", c.Name(), g)
	}
	if inh := flagUsages(c.InheritedFlags(), func(*pflag.Flag) bool { return true }); inh != "" {
		fmt.Fprintf(w, "\n\nGlobal Flags:\n%s", inh)
	}
	if !c.HasParent() {
		writeRootGlobals(w, c)
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\n\nUse \"%s [command] --help\" for more information about a command.", c.CommandPath())
	}
	fmt.Fprintln(w)
	return nil
}

// writeRootGlobals tells a reader of "iamgate --help" that the AIA commands
// take AIA's global flags, which the root command itself does not define.
func writeRootGlobals(w io.Writer, root *cobra.Command) {
	var names []string
	var shown *pflag.FlagSet
	for _, sub := range root.Commands() {
		if !slices.Contains(aiaCommands, sub.Name()) {
			continue
		}
		names = append(names, sub.Name())
		if shown == nil {
			shown = pflag.NewFlagSet("globals", pflag.ContinueOnError)
			for _, n := range append([]string{"cluster-id"}, aiaGlobalNames...) {
				if f := sub.Flags().Lookup(n); f != nil {
					g := *f
					g.Usage = rootGlobalUsage[n]
					shown.AddFlag(&g)
				}
			}
		}
	}
	if shown == nil {
		return
	}
	fmt.Fprintf(w, "\n\naws-iam-authenticator's global flags, accepted by %s\n(before or after the command name; each command's help says what they do there):\n%s",
		strings.Join(names, ", "), flagUsages(shown, func(*pflag.Flag) bool { return true }))
}

var rootGlobalUsage = map[string]string{
	"cluster-id":    "cluster `ID` the token is bound to (default $" + clusterIDEnv + ", then clusterID in the -c file)",
	"config":        "aws-iam-authenticator config `file` (strictly checked: an unknown key is an error)",
	"log-format":    "text or json",
	"feature-gates": "aws-iam-authenticator feature `gates`, e.g. SSORoleMatch=true",
}

// flagUsages lists the visible flags keep selects, in pflag's layout, with
// booleans shown without a value.
func flagUsages(fs *pflag.FlagSet, keep func(*pflag.Flag) bool) string {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || !keep(f) {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		name, text := pflag.UnquoteUsage(f)
		switch {
		case f.Value.Type() == "bool" && f.NoOptDefVal == "true":
			// A switch: "--force" turns it on; "--force=false" still parses.
		case f.NoOptDefVal != "":
			left += "[=" + f.NoOptDefVal + "]"
		case name != "":
			left += " " + name
		}
		if d := f.DefValue; !zeroDefault(f) {
			if f.Value.Type() == "string" {
				d = fmt.Sprintf("%q", d)
			}
			text += " (default " + d + ")"
		}
		if f.Deprecated != "" {
			text += " (DEPRECATED: " + f.Deprecated + ")"
		}
		rows = append(rows, row{left, text})
		width = max(width, len(left))
	})
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%-*s   %s", width, r.left, r.usage)
	}
	return b.String()
}

// zeroDefault reports whether a flag's default is its type's zero value,
// which help leaves out.
func zeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]", "map[]", "<nil>":
		return true
	}
	return false
}
