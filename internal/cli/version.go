package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = "dev"

// versionInfo is what aws-iam-authenticator's "version -o json|yaml" prints,
// with its keys, so scripts that parse it keep working.
type versionInfo struct {
	Commit  string `json:"Commit,omitempty" yaml:"Commit,omitempty"`
	Date    string `json:"Date,omitempty" yaml:"Date,omitempty"`
	Version string `json:"Version,omitempty" yaml:"Version,omitempty"`
}

// NewVersionCommand prints the build's version.
func NewVersionCommand(_ Deps, streams Streams) *cobra.Command {
	var (
		a         aiaFlags
		clusterID string
		short     bool
		output    string
	)
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the iamgate version",
		Long: `Print the iamgate version, commit and Go toolchain on one line.

-o json and -o yaml print aws-iam-authenticator's document instead
({"Version":...,"Commit":...,"Date":...}), and -s prints it as YAML, as
aws-iam-authenticator's -s does, so scripts written for it keep working.`,
		Example: `  iamgate version
  iamgate version -o json | jq -r .Version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.load(cmd.Flags(), streams.Err); err != nil {
				return err
			}
			info := versionInfo{Version: Version}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						info.Commit = s.Value
					case "vcs.time":
						info.Date = s.Value
					}
				}
			}
			if short {
				output = "yaml"
			}
			var err error
			switch output {
			case "":
				rev := ""
				if info.Commit != "" {
					rev = " " + info.Commit
				}
				_, err = fmt.Fprintf(streams.Out, "iamgate %s%s %s/%s %s\n", Version, rev, runtime.GOOS, runtime.GOARCH, runtime.Version())
			case "json":
				b, _ := json.Marshal(info)
				_, err = fmt.Fprintf(streams.Out, "%s\n", b)
			case "yaml":
				b, _ := yaml.Marshal(info)
				_, err = streams.Out.Write(b)
			default:
				return fmt.Errorf("unsupported output format %q (json or yaml, or none for one line of text)", output)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&short, "short", "s", false, "print aws-iam-authenticator's version document as YAML (its -s)")
	f.StringVarP(&output, "output", "o", "", "json or yaml: print aws-iam-authenticator's version document (default: one line of text)")
	f.StringVarP(&clusterID, "cluster-id", "i", "", "accepted for aws-iam-authenticator compatibility; no effect here")
	a.addFlags(f, aiaHelp{
		config:       "aws-iam-authenticator config `file`: checked (it must exist and parse), not used",
		logFormat:    logFormatNoEffect,
		featureGates: gatesNoEffect,
	})
	return cmd
}
