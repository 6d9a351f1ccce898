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
	if len(args) > 0 && args[0] == "token" {
		if code, served := serveCached(args[1:], os.Getenv, time.Now(), os.Stdout, os.Stderr); served {
			os.Exit(code)
		}
	}
	os.Exit(execCore(args))
}

// serveCached answers "iamgate token ARGS" from the cache if it can. It
// declines (served=false) whenever the core must decide: --help, --no-cache,
// any parse or validation problem (the core reports it properly), or a miss.
// The decision uses exactly the core's flag definitions and cache key.
func serveCached(args []string, getenv func(string) string, now time.Time, stdout, stderr io.Writer) (code int, served bool) {
	var o tokenflags.Options
	fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	help := fs.BoolP("help", "h", false, "")
	o.AddFlags(fs)
	if fs.Parse(args) != nil || *help || o.NoCache || fs.NArg() > 0 {
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
	if o.TokenOnly {
		_, err = io.WriteString(stdout, e.Token+"\n")
	} else {
		info := execcred.ParseInfo(getenv(execcred.EnvExecInfo))
		if info.Warning != "" {
			fmt.Fprintf(stderr, "warning: %s\n", info.Warning)
		}
		var doc []byte
		if doc, err = execcred.Marshal(info.APIVersion, e.Token, e.Expires); err == nil {
			_, err = stdout.Write(doc)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: write token: %v\n", err)
		return 1, true
	}
	return 0, true
}
