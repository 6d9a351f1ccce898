package tokencache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const key = "0123abcd"

func newStore(t *testing.T) Store {
	t.Helper()
	return Store{Dir: filepath.Join(t.TempDir(), "cache", "iamgate")}
}

func entry(now time.Time, d time.Duration) Entry {
	return Entry{Token: "k8s-aws-v1.dG9rZW4", Expires: now.Add(d)}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestWriteThenReadModes(t *testing.T) {
	s := newStore(t)
	now := time.Now()
	if _, ok := s.ReadToken(key, now); ok {
		t.Fatal("hit on an empty cache")
	}
	want := entry(now, 14*time.Minute)
	if err := s.WriteToken(key, want); err != nil {
		t.Fatal(err)
	}
	got, ok := s.ReadToken(key, now)
	if !ok || got.Token != want.Token || !got.Expires.Equal(want.Expires) {
		t.Fatalf("ReadToken = %+v %v, want %+v", got, ok, want)
	}
	if m := mode(t, s.Dir); m != 0o700 {
		t.Fatalf("dir mode %#o, want 0700", m)
	}
	if m := mode(t, filepath.Join(s.Dir, TokenFile(key))); m != 0o600 {
		t.Fatalf("file mode %#o, want 0600", m)
	}
	entries, _ := os.ReadDir(s.Dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), tempMarker) {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestFreshness(t *testing.T) {
	s := newStore(t)
	now := time.Now()
	cases := []struct {
		left time.Duration
		ok   bool
	}{
		{14 * time.Minute, true},
		{61 * time.Second, true},
		{60 * time.Second, false},
		{10 * time.Second, false},
		{-time.Minute, false},
		{16 * time.Minute, false}, // longer than STS would honour: corrupt
	}
	for _, c := range cases {
		if err := s.WriteToken(key, entry(now, c.left)); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.ReadToken(key, now); ok != c.ok {
			t.Errorf("%s left: hit=%v, want %v", c.left, ok, c.ok)
		}
	}
}

func TestCorruptEntriesAreMisses(t *testing.T) {
	s := newStore(t)
	now := time.Now()
	if err := s.WriteToken(key, entry(now, 10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir, TokenFile(key))
	for _, body := range []string{
		"", "{", "null", `{"v":2,"token":"k8s-aws-v1.x","expiresAt":"2999-01-01T00:00:00Z"}`,
		`{"v":1,"token":"Bearer x","expiresAt":"` + now.Add(5*time.Minute).Format(time.RFC3339) + `"}`,
		strings.Repeat("x", maxFileBytes+10),
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.ReadToken(key, now); ok {
			t.Fatalf("corrupt body %.40q served", body)
		}
	}
	if err := s.WriteToken(key, entry(now, 10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.ReadToken(key, now); !ok {
		t.Fatal("corrupt file was not replaced")
	}
}

func TestUntrustedFileIgnoredAndReplaced(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name  string
		spoil func(t *testing.T, path string)
	}{
		{"mode 0644", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o644)) }},
		{"mode 0660", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o660)) }},
		{"foreign owner", func(t *testing.T, p string) { chownOther(t, p) }},
		{"symlink", func(t *testing.T, p string) {
			target := filepath.Join(t.TempDir(), "target")
			b, _ := os.ReadFile(p)
			must(t, os.WriteFile(target, b, 0o600))
			must(t, os.Remove(p))
			must(t, os.Symlink(target, p))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			must(t, s.WriteToken(key, entry(now, 10*time.Minute)))
			path := filepath.Join(s.Dir, TokenFile(key))
			c.spoil(t, path)
			if _, ok := s.ReadToken(key, now); ok {
				t.Fatal("untrusted file served")
			}
			_, err := s.ReadFile(TokenFile(key))
			if !errors.Is(err, ErrUntrusted) {
				t.Fatalf("ReadFile error = %v, want ErrUntrusted", err)
			}
			must(t, s.WriteToken(key, entry(now, 10*time.Minute)))
			if _, ok := s.ReadToken(key, now); !ok {
				t.Fatal("not replaced by the next write")
			}
			fi, err := os.Lstat(path)
			must(t, err)
			if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
				t.Fatalf("replacement mode %v", fi.Mode())
			}
		})
	}
}

func TestUntrustedDir(t *testing.T) {
	now := time.Now()
	t.Run("mode 0755 owned by us is tightened and emptied", func(t *testing.T) {
		s := newStore(t)
		must(t, s.WriteToken(key, entry(now, 10*time.Minute)))
		must(t, os.Chmod(s.Dir, 0o755))
		if _, ok := s.ReadToken(key, now); ok {
			t.Fatal("entry in a 0755 dir served")
		}
		must(t, s.WriteToken("other", entry(now, 10*time.Minute)))
		if m := mode(t, s.Dir); m != 0o700 {
			t.Fatalf("dir mode %#o after write, want 0700", m)
		}
		if _, err := os.Stat(filepath.Join(s.Dir, TokenFile(key))); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("exposed entry kept: %v", err)
		}
	})
	t.Run("foreign owner is moved aside", func(t *testing.T) {
		s := newStore(t)
		must(t, s.WriteToken(key, entry(now, 10*time.Minute)))
		chownOther(t, s.Dir)
		if _, ok := s.ReadToken(key, now); ok {
			t.Fatal("entry in a foreign dir served")
		}
		must(t, s.WriteToken(key, entry(now, 10*time.Minute)))
		fi, err := os.Stat(s.Dir)
		must(t, err)
		if !ownedByUs(fi) || fi.Mode().Perm() != 0o700 {
			t.Fatalf("dir not replaced: %v", fi.Mode())
		}
		if _, ok := s.ReadToken(key, now); !ok {
			t.Fatal("miss after replacing the dir")
		}
	})
	t.Run("a file in place of the dir", func(t *testing.T) {
		s := newStore(t)
		must(t, os.MkdirAll(filepath.Dir(s.Dir), 0o700))
		must(t, os.WriteFile(s.Dir, []byte("x"), 0o600))
		if _, ok := s.ReadToken(key, now); ok {
			t.Fatal("hit")
		}
		must(t, s.WriteToken(key, entry(now, 10*time.Minute)))
		if _, ok := s.ReadToken(key, now); !ok {
			t.Fatal("miss after replacing")
		}
	})
}

func TestClearKeepsOtherFiles(t *testing.T) {
	s := newStore(t)
	now := time.Now()
	must(t, s.WriteToken("a", entry(now, 10*time.Minute)))
	must(t, s.WriteFile(CredentialsFile("b"), []byte("{}")))
	must(t, os.WriteFile(filepath.Join(s.Dir, "notes.txt"), nil, 0o600))
	unlock, err := s.Lock(context.Background(), time.Second)
	must(t, err)
	unlock()
	n, err := s.Clear()
	must(t, err)
	if n != 2 {
		t.Fatalf("Clear removed %d files, want 2", n)
	}
	left, _ := os.ReadDir(s.Dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != ".lock,notes.txt" {
		t.Fatalf("left %v", names)
	}
	if n, err := (Store{Dir: filepath.Join(t.TempDir(), "none")}).Clear(); n != 0 || err != nil {
		t.Fatalf("Clear of a missing dir = %d, %v", n, err)
	}
}

func TestLockExcludes(t *testing.T) {
	s := newStore(t)
	unlock, err := s.Lock(context.Background(), time.Second)
	must(t, err)
	start := time.Now()
	if _, err := s.Lock(context.Background(), 100*time.Millisecond); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("second lock while the first is held: %v, want ErrLockTimeout", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("lock wait not bounded")
	}
	done := make(chan error, 1)
	go func() {
		u, err := s.Lock(context.Background(), 5*time.Second)
		if err == nil {
			u()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("waiter did not get the lock after release: %v", err)
	}
	if m := mode(t, filepath.Join(s.Dir, lockName)); m != 0o600 {
		t.Fatalf("lock file mode %#o", m)
	}
}

func TestInvalidNames(t *testing.T) {
	s := newStore(t)
	for _, n := range []string{"", ".lock", "../token-x", "token-a/b", "config"} {
		if err := s.WriteFile(n, nil); err == nil {
			t.Errorf("WriteFile(%q) accepted", n)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	env := map[string]string{"HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	if d, _ := DefaultDir(get); d != "/home/u/.kube/cache/iamgate" {
		t.Fatalf("default dir %q", d)
	}
	env[DirEnv] = "/tmp/x/"
	if d, _ := DefaultDir(get); d != "/tmp/x" {
		t.Fatalf("override dir %q", d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func chownOther(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	must(t, os.Lchown(path, 65534, 65534))
}
