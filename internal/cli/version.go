package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// The release stamps, set at build time by the Makefile:
//
//	-ldflags "-X github.com/iamgate/iamgate/internal/cli.Version=v1.2.3
//	          -X github.com/iamgate/iamgate/internal/cli.Commit=<sha>
//	          -X github.com/iamgate/iamgate/internal/cli.Date=<commit time>"
//
// A plain "go build" or "go install" leaves them empty and the Go toolchain's
// own record (module version, VCS revision and time) fills them in.
var (
	Version = "dev"
	Commit  string
	Date    string
)

// versionInfo is aws-iam-authenticator's "version -o json|yaml" document,
// with its keys, plus iamgate's. Every value is a string, so a script that
// reads AIA's document as a flat map of strings keeps working.
type versionInfo struct {
	Version       string `json:"Version,omitempty" yaml:"Version,omitempty"`
	Commit        string `json:"Commit,omitempty" yaml:"Commit,omitempty"`
	Date          string `json:"Date,omitempty" yaml:"Date,omitempty"`
	ModuleVersion string `json:"ModuleVersion,omitempty" yaml:"ModuleVersion,omitempty"`
	GoVersion     string `json:"GoVersion" yaml:"GoVersion"`
	Platform      string `json:"Platform" yaml:"Platform"`
	// BuildFlags are the toolchain's build settings as "go version -m"
	// prints them (-trimpath=true CGO_ENABLED=0 GOOS=linux ...; Go records
	// -ldflags only without -trimpath).
	BuildFlags string `json:"BuildFlags,omitempty" yaml:"BuildFlags,omitempty"`
}

func currentBuild() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuild(versionInfo{Version: Version, Commit: Commit, Date: Date}, bi)
}

// resolveBuild fills what the -X stamps left empty from the toolchain's
// record. The stamps win: the Makefile builds with -buildvcs=false, and a
// release's version is its tag, not a pseudo-version.
func resolveBuild(stamp versionInfo, bi *debug.BuildInfo) versionInfo {
	v := stamp
	v.GoVersion, v.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
	if bi == nil {
		return v
	}
	v.ModuleVersion = bi.Main.Version
	if (v.Version == "" || v.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	var flags []string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && v.Commit == "":
			v.Commit = s.Value
		case s.Key == "vcs.time" && v.Date == "":
			v.Date = s.Value
		case strings.HasPrefix(s.Key, "vcs"):
		default:
			flags = append(flags, s.Key+"="+quoteSetting(s.Value))
		}
	}
	v.BuildFlags = strings.Join(flags, " ")
	return v
}

// quoteSetting quotes a value the way "go version -m" does, so that
// -ldflags="-s -w" reads as one setting.
func quoteSetting(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\r\n\"`") {
		return strconv.Quote(s)
	}
	return s
}

// versionLine is the one line "version" and "--version" print.
func versionLine(v versionInfo) string {
	commit := "unknown"
	if v.Commit != "" {
		commit = v.Commit[:min(12, len(v.Commit))]
	}
	if v.Date != "" {
		commit += ", " + v.Date
	}
	return fmt.Sprintf("iamgate %s (commit %s) %s %s", v.Version, commit, v.GoVersion, v.Platform)
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
		Long: `Print the iamgate version, commit, commit date, Go toolchain and platform on
one line ("iamgate --version" prints the same line).

-o json and -o yaml print a document with aws-iam-authenticator's keys
(Version, Commit, Date) plus ModuleVersion, GoVersion, Platform and
BuildFlags (the toolchain's build settings: -trimpath, -ldflags, CGO_ENABLED,
GOOS, GOARCH ...); -s prints it as YAML, as aws-iam-authenticator's -s does,
so scripts written for it keep working. Every value is a string.

Release builds ("make build", "make dist") stamp the version, commit and
date; a plain "go build" or "go install" takes them from the Go toolchain's
record of the module version and the VCS revision.`,
		Example: `  iamgate version
  iamgate --version
  iamgate version -o json | jq -r .Commit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.load(cmd.Flags(), streams.Err); err != nil {
				return err
			}
			info := currentBuild()
			if short {
				output = "yaml"
			}
			var err error
			switch output {
			case "":
				_, err = fmt.Fprintln(streams.Out, versionLine(info))
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
