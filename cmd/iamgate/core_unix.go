//go:build unix

package main

import (
	"os"
	"syscall"
)

const exeSuffix = ""

// runCore execs: the core takes over this process (same pid, stdin, stdout),
// so kubectl sees one plugin process and nothing is proxied.
func runCore(path string, args []string) (int, error) {
	err := syscall.Exec(path, append([]string{path}, args...), os.Environ())
	return 126, err
}
