//go:build unix

package tokencache

import (
	"errors"
	"os"
	"syscall"
)

// O_NOFOLLOW: a symlink planted in place of an entry is refused, not
// followed. O_NONBLOCK: a FIFO planted there cannot hang the open.
const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

const checkModes = true

func ownedByUs(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

func isSymlinkErr(err error) bool { return errors.Is(err, syscall.ELOOP) }

func flock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
		return false, nil
	}
	return err == nil, err
}

func funlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
