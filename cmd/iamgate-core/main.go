// Command iamgate-core is the full iamgate binary: every command, with the AWS
// SDK, client-go and Prometheus linked in. Users run "iamgate", a lean front
// that answers cached tokens itself and execs this binary for everything else.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/iamgate/iamgate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Deps{}, cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
