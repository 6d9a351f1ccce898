//go:build !unix

package tokencache

import "os"

// Elsewhere (Windows) the owner and mode checks have no POSIX equivalent;
// the cache relies on the profile directory's ACLs.
const openNoFollow = 0

const checkModes = false

func ownedByUs(os.FileInfo) bool { return true }

func isSymlinkErr(error) bool { return false }

func flock(*os.File) (bool, error) { return true, nil }

func funlock(*os.File) error { return nil }
