// Package tokencache keeps iamgate's client-side caches on disk: minted
// tokens (so kubectl's frequent plugin calls cost a file read, not an STS
// signing round) and assumed-role credentials (so an MFA code is typed once
// per session, not once per kubectl call).
//
// The cache holds bearer tokens and AWS secrets, so nothing in it is trusted
// unless the directory and the file belong to the current user and nobody
// else can read or write them. Anything else — a corrupt file, a file owned
// by someone else, a 0644 file, a 0755 directory — is treated as absent and
// replaced on the next write. Writers serialize on a flock and replace files
// by atomic rename, so readers need no lock and never see a partial file.
//
// The package is lean (stdlib only): the front binary reads it on every
// kubectl call.
package tokencache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DirEnv overrides the cache directory (tests, unusual home directories).
const DirEnv = "IAMGATE_CACHE_DIR"

// maxFileBytes bounds what is read from a cache file; real entries are a few
// KiB even with long session tokens.
const maxFileBytes = 256 << 10

// Names of the files this package writes; Clear removes exactly these.
const (
	tokenPrefix = "token-"
	credsPrefix = "creds-"
	fileSuffix  = ".json"
	tempMarker  = ".tmp-"
	lockName    = ".lock"
)

// ErrUntrusted reports a cache file or directory that exists but fails the
// ownership or permission checks. Callers treat it as a miss.
var ErrUntrusted = errors.New("cache entry not trusted")

// DefaultDir is $IAMGATE_CACHE_DIR, else ~/.kube/cache/iamgate (next to
// kubectl's own caches).
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv(DirEnv); d != "" {
		return filepath.Clean(d), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("find cache directory: %w (set %s)", err, DirEnv)
		}
	}
	return filepath.Join(home, ".kube", "cache", "iamgate"), nil
}

// Store is one cache directory.
type Store struct {
	Dir string
}

// ReadFile returns the contents of a cache file if the directory and the file
// pass the trust checks. A missing file is fs.ErrNotExist; an untrusted one
// wraps ErrUntrusted.
func (s Store) ReadFile(name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return nil, err
	}
	if err := trusted(fi, true); err != nil {
		return nil, fmt.Errorf("cache dir %s: %w", s.Dir, err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, name), os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, fmt.Errorf("cache file %s is a symlink: %w", name, ErrUntrusted)
		}
		return nil, err
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil {
		return nil, err
	}
	if err := trusted(fi, false); err != nil {
		return nil, fmt.Errorf("cache file %s: %w", name, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("cache file %s too large: %w", name, ErrUntrusted)
	}
	return b, nil
}

// WriteFile atomically replaces a cache file with data, mode 0600, creating
// or repairing the directory first.
func (s Store) WriteFile(name string, data []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := s.ensureDir(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.Dir, name+tempMarker+"*")
	if err != nil {
		return fmt.Errorf("write cache: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write cache: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write cache: %w", err)
	}
	// rename replaces whatever was there, including a file we could not
	// trust (foreign owner, wide mode, symlink): the entry, not its target.
	if err := os.Rename(tmpName, filepath.Join(s.Dir, name)); err != nil {
		return fmt.Errorf("write cache: %w", err)
	}
	return nil
}

// Remove deletes one cache file; a missing file is not an error.
func (s Store) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Clear removes every token and credential file (and stray temporaries) and
// reports how many it removed. The lock file stays: removing it while
// another process holds the lock would let a third one in.
func (s Store) Clear() (int, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("clear cache: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if !isCacheFile(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(s.Dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// ensureDir makes the directory exist, owned by us, mode 0700. A directory
// that is ours but too open is tightened and emptied of cache files (they
// were exposed, so they are not trusted); one that is not ours, or is not a
// directory, is moved aside and replaced.
func (s Store) ensureDir() error {
	fi, err := os.Stat(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return s.mkdir()
	}
	if err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	err = trusted(fi, true)
	switch {
	case err == nil:
		return nil
	case fi.IsDir() && ownedByUs(fi):
		if err := os.Chmod(s.Dir, 0o700); err != nil {
			return fmt.Errorf("tighten cache dir %s: %w", s.Dir, err)
		}
		_, err := s.Clear()
		return err
	default:
		aside := s.Dir + ".untrusted-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if rerr := os.Rename(s.Dir, aside); rerr != nil {
			return fmt.Errorf("cache dir %s is not safe to use (%v) and could not be moved aside: %w; remove it or set %s",
				s.Dir, err, rerr, DirEnv)
		}
		return s.mkdir()
	}
}

func (s Store) mkdir() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone and is subject to
	// umask; set it explicitly, then check we got what we meant.
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	if err := trusted(fi, true); err != nil {
		return fmt.Errorf("cache dir %s: %w", s.Dir, err)
	}
	return nil
}

// trusted checks owner and mode: a cache entry anyone else could have written
// could make us send a forged token; one anyone else could read leaks it.
func trusted(fi os.FileInfo, wantDir bool) error {
	if wantDir && !fi.IsDir() {
		return fmt.Errorf("not a directory: %w", ErrUntrusted)
	}
	if !wantDir && !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file: %w", ErrUntrusted)
	}
	if !ownedByUs(fi) {
		return fmt.Errorf("owned by another user: %w", ErrUntrusted)
	}
	if checkModes && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("mode %#o is open to other users: %w", fi.Mode().Perm(), ErrUntrusted)
	}
	return nil
}

func checkName(name string) error {
	if name == "" || name == lockName || strings.ContainsAny(name, `/\`) || !isCacheFile(name) {
		return fmt.Errorf("invalid cache file name %q", name)
	}
	return nil
}

func isCacheFile(name string) bool {
	return strings.HasPrefix(name, tokenPrefix) || strings.HasPrefix(name, credsPrefix)
}

// CredentialsFile names the file holding credentials for key (a hex digest).
func CredentialsFile(key string) string { return credsPrefix + key + fileSuffix }

// TokenFile names the file holding the token for key (a hex digest).
func TokenFile(key string) string { return tokenPrefix + key + fileSuffix }
