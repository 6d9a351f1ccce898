package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// execCore replaces this process with iamgate-core, passing the arguments
// and environment unchanged. It returns only on failure, with an exit code.
func execCore(args []string) int {
	path, err := findCore()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v; install both binaries, iamgate and %s, in the same directory\n", err, coreName)
		return 127
	}
	code, err := runCore(path, args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: run %s: %v\n", path, err)
	}
	return code
}

// findCore looks next to this executable (symlinks resolved, so a symlink in
// ~/bin to an install directory works), then in PATH.
func findCore() (string, error) {
	if self, err := os.Executable(); err == nil {
		dirs := []string{filepath.Dir(self)}
		if real, err := filepath.EvalSymlinks(self); err == nil && filepath.Dir(real) != dirs[0] {
			dirs = append([]string{filepath.Dir(real)}, dirs...)
		}
		for _, d := range dirs {
			if p := filepath.Join(d, coreName+exeSuffix); isExecutable(p) {
				return p, nil
			}
		}
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d == "" || !filepath.IsAbs(d) {
			// Relative PATH entries would resolve against whatever directory
			// kubectl happens to run in.
			continue
		}
		if p := filepath.Join(d, coreName+exeSuffix); isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New(coreName + " not found next to iamgate or in PATH")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() {
		return false
	}
	return exeSuffix != "" && strings.HasSuffix(p, exeSuffix) || fi.Mode().Perm()&0o111 != 0
}
