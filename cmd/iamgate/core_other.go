//go:build !unix

package main

import (
	"errors"
	"os"
	"os/exec"
)

const exeSuffix = ".exe"

// runCore runs the core as a child where exec(2) does not exist, passing the
// standard streams through and its exit code back.
func runCore(path string, args []string) (int, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
