package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// FileMode is the mode of every kubeconfig this package writes: it may hold
// credentials of other clusters, so only the owner may read it.
const FileMode fs.FileMode = 0o600

// LockTimeout bounds how long Update waits for another writer's lock.
var LockTimeout = 10 * time.Second

// Load reads a kubeconfig; a missing file is an empty config, so the first
// update creates it.
func Load(path string) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return clientcmdapi.NewConfig(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// Encode serializes cfg as kubectl writes it.
func Encode(cfg *clientcmdapi.Config) ([]byte, error) {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encode kubeconfig: %w", err)
	}
	return data, nil
}

// Preview returns the kubeconfig Update would write, touching nothing.
func Preview(path string, e Entry) (cfg *clientcmdapi.Config, created bool, err error) {
	if err := e.Validate(); err != nil {
		return nil, false, err
	}
	cfg, err = Load(path)
	if err != nil {
		return nil, false, err
	}
	created = Apply(cfg, e)
	return cfg, created, nil
}

// Update merges e into the kubeconfig at path and writes it back with mode
// 0600. The file's directory must exist, unless createDir is set: then that
// one directory (not its parents) is created with mode 0700. Concurrent writers are serialized by kubectl's own lock file
// (path + ".lock", so "kubectl config set" is excluded too) and the file is
// replaced atomically, so a reader never sees half a file. A symlinked
// kubeconfig is updated where the link points.
func Update(path string, e Entry, createDir bool) (cfg *clientcmdapi.Config, created bool, err error) {
	if err := e.Validate(); err != nil {
		return nil, false, err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if err := ensureDir(filepath.Dir(path), createDir); err != nil {
		return nil, false, err
	}
	unlock, err := lock(path, LockTimeout)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	cfg, created, err = Preview(path, e)
	if err != nil {
		return nil, false, err
	}
	data, err := Encode(cfg)
	if err != nil {
		return nil, false, err
	}
	if err := WriteAtomic(path, data); err != nil {
		return nil, false, err
	}
	return cfg, created, nil
}

func ensureDir(dir string, create bool) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("kubeconfig directory %s is not a directory", dir)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("kubeconfig directory: %w", err)
	case !create:
		return fmt.Errorf("kubeconfig directory %s does not exist; create it first, or pick another --kubeconfig "+
			"(only the default ~/.kube is created for you)", dir)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("create kubeconfig directory: %w", err)
	}
	return nil
}

// lock takes path+".lock" the way client-go's clientcmd does (create it
// exclusively, remove it when done), retrying until timeout.
func lock(path string, timeout time.Duration) (unlock func(), err error) {
	name := path + ".lock"
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, FileMode)
		if err == nil {
			f.Close()
			return func() { os.Remove(name) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock kubeconfig: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock kubeconfig: %s still exists after %s; another program is editing the kubeconfig (remove the file if none is)", name, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WriteAtomic writes data to a temporary file beside path with mode 0600,
// syncs it and renames it over path.
func WriteAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	fail := func(err error) error {
		tmp.Close()
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	if err := tmp.Chmod(FileMode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
