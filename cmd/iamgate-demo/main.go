// Command iamgate-demo runs iamgate end to end on one machine, with no AWS
// account: an STS stand-in inside this process, the real "iamgate server"
// serving the example mapping file next to this source (config.yaml), and
// tokens signed by the real client code for several sample identities. It
// prints who each token maps to, or why it was refused, and exits non-zero
// if any answer differs from the expected one, so it doubles as a check.
//
// The stand-in lives only in this binary and in tests; the deployable
// binaries (iamgate, iamgate-core) cannot be pointed at it.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/iamgate/iamgate/internal/demo"
)

//go:embed config.yaml
var exampleConfig []byte

func main() {
	verbose := flag.Bool("v", false, "also print the server's log to stderr")
	dir := flag.String("dir", "", "directory for the config, certificates and server log (default: a new temporary directory, kept)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: iamgate-demo [-v] [-dir DIR]\n\n"+
			"Runs the iamgate server against an STS stand-in and prints how it answers\n"+
			"tokens from several sample identities. Exits 1 if any answer is unexpected.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	isolateFromAWS()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, *dir, *verbose)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, dir string, verbose bool) int {
	var logTo io.Writer
	if verbose {
		logTo = os.Stderr
	}
	rep, err := demo.Run(ctx, demo.Options{Config: exampleConfig, Dir: dir, LogTo: logTo})
	if err != nil {
		fmt.Fprintf(os.Stderr, "iamgate-demo: %v\n", err)
		return 2
	}
	rep.Print(os.Stdout)
	if !rep.OK() {
		return 1
	}
	return 0
}

// isolateFromAWS keeps the demo off real AWS whatever the caller's shell
// holds: the in-process server builds its IAM/EC2 lookups from the default
// credential chain, and without this a user with AWS_REGION and credentials
// set would have the node-role sample call the real EC2 API.
func isolateFromAWS() {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
