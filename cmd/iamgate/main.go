// Command iamgate is the binary kubeconfigs run. It is a lean front: for
// "iamgate token" with a fresh cached token it answers by itself, touching
// only the cache file, and otherwise (a miss, and every other command) it
// execs iamgate-core, the full binary, found next to it or in PATH.
//
// Why two binaries: kubectl runs the plugin before every request it cannot
// serve from its own in-memory credential, i.e. on every kubectl invocation.
// A Go binary that links the AWS SDK, client-go and Prometheus spends ~20 ms
// in package initialisation alone before main runs; this one links the
// standard library and pflag and answers a cache hit in a couple of
// milliseconds (docs/benchmarks.md). Its imports are pinned by a test.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/execcred"
	"github.com/iamgate/iamgate/internal/tokencache"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

// coreName is the full binary's file name.
const coreName = "iamgate-core"

func main() {
	args := os.Args[1:]
	if rest, ok := tokenArgs(args); ok {
		if code, served := serveCached(rest, os.Getenv, time.Now(), os.Stdout, os.Stderr); served {
			os.Exit(code)
		}
	}
	os.Exit(execCore(args))
}

// tokenArgs reports whether args run "token", and returns them without that
// word. It finds the command name as cobra does in the core: aws-iam-
// authenticator's global flags (and any subcommand flag) may come first, as
// in "-l json token -i c1". Cobra knows no flags at that point, so it takes
// "-x" and "--name" (without "=") to be followed by a value; so does this.
func tokenArgs(args []string) ([]string, bool) {
	for i := 0; i < len(args); i++ {
		s := args[i]
		switch {
		case s == "--":
			return nil, false
		case strings.HasPrefix(s, "--") && !strings.Contains(s, "="),
			strings.HasPrefix(s, "-") && len(s) == 2 && s != "-=":
			i++ // its value
		case s == "" || strings.HasPrefix(s, "-"):
		case s == "token":
			return append(args[:i:i], args[i+1:]...), true
		default:
			return nil, false
		}
	}
	return nil, false
}

// aiaGlobals are aws-iam-authenticator's global flags other than -i (a token
// flag). The front serves a cache hit with -l text|json; with -c (the core
// reads the file's clusterID), --feature-gates (the core checks the gate
// names) or another -l value (the core warns) it defers to the core.
type aiaGlobals struct {
	config, logFormat, featureGates string
}

// newTokenFlagSet is the core's token flag set as the front parses it: the
// shared token flags plus the global ones. A test compares it with the
// core's: names, shorthands and which flags take a value must match.
func newTokenFlagSet(o *tokenflags.Options, g *aiaGlobals) *pflag.FlagSet {
	fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o.AddFlags(fs)
	fs.StringVarP(&g.config, "config", "c", "", "")
	fs.StringVarP(&g.logFormat, "log-format", "l", "", "")
	fs.StringVar(&g.featureGates, "feature-gates", "", "")
	return fs
}

func (g *aiaGlobals) frontCanServe(fs *pflag.FlagSet) bool {
	if fs.Changed("config") || fs.Changed("feature-gates") {
		return false
	}
	return !fs.Changed("log-format") || g.logFormat == "text" || g.logFormat == "json"
}

// serveCached answers "iamgate token ARGS" (ARGS without "token") from the
// cache if it can. It declines (served=false) whenever the core must decide:
// --help, --no-cache, --debug, -c, --feature-gates, any parse or validation problem
// (the core reports it properly), or a miss. The decision uses exactly the
// core's flag definitions and cache key.
func serveCached(args []string, getenv func(string) string, now time.Time, stdout, stderr io.Writer) (code int, served bool) {
	var o tokenflags.Options
	var g aiaGlobals
	fs := newTokenFlagSet(&o, &g)
	help := fs.BoolP("help", "h", false, "")
	if fs.Parse(args) != nil || *help || o.NoCache || o.Debug || fs.NArg() > 0 || !g.frontCanServe(fs) {
		return 0, false
	}
	o.ApplyEnv(getenv)
	if o.Validate() != nil {
		return 0, false
	}
	dir, err := tokencache.DefaultDir(getenv)
	if err != nil {
		return 0, false
	}
	e, ok := tokencache.Store{Dir: dir}.ReadToken(o.TokenKey(getenv), now)
	if !ok {
		return 0, false
	}
	info := execcred.ParseInfo(getenv(execcred.EnvExecInfo))
	if err := execcred.Write(stdout, stderr, info, o.TokenOnly, e.Token, e.Expires); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1, true
	}
	return 0, true
}
