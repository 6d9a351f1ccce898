package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/config"
)

// aws-iam-authenticator defines -c, -l, -i and --feature-gates on its root
// command, so every AIA command accepts them. iamgate defines them on each
// command it shares with AIA (token, verify, init, server, version), with help
// that says what each one does there. Cobra lets a subcommand's flags come
// before its name as well, so "iamgate -l json token -i c1" parses as AIA's
// does. The lean front (cmd/iamgate) mirrors the token command's set; a test
// there compares the two.

// aiaFlags are AIA's global flags on the commands without a server config:
// token, verify and version. -i is each command's own.
type aiaFlags struct {
	configFile   string
	logFormat    string
	featureGates gateFlag
}

// aiaHelp is the help text of each flag on one command.
type aiaHelp struct{ config, logFormat, featureGates string }

const (
	logFormatNoEffect = "accepted for aws-iam-authenticator compatibility (text or json); this command writes no log lines"
	gatesNoEffect     = "aws-iam-authenticator feature `gates`, e.g. SSORoleMatch=true: names and values are checked, but none changes this command (they matter to the server)"
)

func (a *aiaFlags) addFlags(fs *pflag.FlagSet, h aiaHelp) {
	fs.StringVarP(&a.configFile, "config", "c", "", h.config)
	fs.StringVarP(&a.logFormat, "log-format", "l", "", h.logFormat)
	fs.Var(&a.featureGates, "feature-gates", h.featureGates)
}

// load does what AIA does with these flags at start-up: a -c file must exist
// and parse (iamgate's strict loader: unknown keys are errors), and an
// unknown -l value is a warning. It returns the file's config, empty without -c.
func (a *aiaFlags) load(fs *pflag.FlagSet, warn io.Writer) (*config.Config, error) {
	if fs.Changed("log-format") {
		checkLogFormat(a.logFormat, warn)
	}
	if a.configFile == "" {
		return &config.Config{}, nil
	}
	c, err := config.Load(a.configFile)
	if err != nil {
		return nil, fmt.Errorf("load --config: %w", err)
	}
	return c, nil
}

// checkLogFormat returns the log format to use: AIA warns about a value other
// than text or json and logs text.
func checkLogFormat(v string, warn io.Writer) string {
	if v == "text" || v == "json" {
		return v
	}
	if warn != nil {
		fmt.Fprintf(warn, "warning: unknown log format %q (want text or json); using text\n", v)
	}
	return "text"
}

// clusterIDFrom picks the cluster id with AIA's (viper's) precedence: the -i
// flag, then KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID, then clusterID in the
// -c file.
func clusterIDFrom(flag string, getenv func(string) string, file *config.Config) string {
	if flag != "" {
		return flag
	}
	if v := getenv(clusterIDEnv); v != "" {
		return v
	}
	if file != nil {
		return file.ClusterID
	}
	return ""
}

// gateFlag is --feature-gates. Each value is checked when parsed (an unknown
// gate is an error, as in AIA); repeating the flag adds gates, as Kubernetes'
// feature-gate flag does.
type gateFlag []string

func (g *gateFlag) String() string { return strings.Join(*g, ",") }

func (g *gateFlag) Type() string { return "gates" }

func (g *gateFlag) Set(v string) error {
	if err := (&config.Config{}).SetFeatureGates(v); err != nil {
		return err
	}
	*g = append(*g, v)
	return nil
}

// apply sets the gates on c, in the order given.
func (g gateFlag) apply(c *config.Config) error {
	for _, v := range g {
		if err := c.SetFeatureGates(v); err != nil {
			return err
		}
	}
	return nil
}
