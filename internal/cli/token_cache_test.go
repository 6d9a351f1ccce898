package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// primedCache mints one token for cluster c1 and then removes the secret key
// from the environment: from then on any call that resolves credentials
// fails, so success proves a cache hit.
func primedCache(t *testing.T) (*tokenEnvT, string) {
	t.Helper()
	e := newTokenEnv(t)
	e.staticKeys()
	t.Setenv("AWS_REGION", "us-west-2")
	e.mustRun("token", "-i", "c1")
	first := e.cred().Status.Token
	files := e.tokenFiles()
	if len(files) != 1 {
		t.Fatalf("token files %v", files)
	}
	assertMode(t, e.cache, 0o700)
	assertMode(t, files[0], 0o600)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	return e, first
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Fatalf("%s mode %#o, want %#o", path, fi.Mode().Perm(), want)
	}
}

func TestTokenCacheHitNeedsNoCredentials(t *testing.T) {
	e, first := primedCache(t)
	e.mustRun("token", "-i", "c1")
	if got := e.cred().Status.Token; got != first {
		t.Fatal("second call minted a new token instead of using the cache")
	}
	// Flags that do not change the token still hit.
	e.mustRun("token", "-i", "c1", "--cache", "--token-only")
	if strings.TrimSpace(e.stdout) != first {
		t.Fatal("--token-only missed the cache")
	}
	// Anything that selects another identity or cluster misses (and then
	// fails here, having no secret key).
	for _, args := range [][]string{
		{"token", "-i", "c2"},
		{"token", "-i", "c1", "--region", "eu-west-1"},
		{"token", "-i", "c1", "-r", "arn:aws:iam::111122223333:role/x"},
		{"token", "-i", "c1", "--profile", "other"},
		{"token", "-i", "c1", "--no-cache"},
	} {
		if e.run(args...) == 0 {
			t.Errorf("%v was served from c1's cache entry", args)
		}
		if e.stdout != "" {
			t.Errorf("%v: failure wrote to stdout: %q", args, e.stdout)
		}
	}
	t.Setenv("AWS_PROFILE", "other")
	if e.run("token", "-i", "c1") == 0 {
		t.Error("AWS_PROFILE change served from the cache")
	}
}

func TestTokenCacheUntrustedEntries(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(e *tokenEnvT, file string) error
	}{
		{"corrupt", func(_ *tokenEnvT, f string) error { return os.WriteFile(f, []byte(`{"v":1,"tok`), 0o600) }},
		{"file 0644", func(_ *tokenEnvT, f string) error { return os.Chmod(f, 0o644) }},
		{"dir 0755", func(e *tokenEnvT, _ string) error { return os.Chmod(e.cache, 0o755) }},
		{"foreign owner", func(_ *tokenEnvT, f string) error {
			if os.Geteuid() != 0 {
				return errSkip
			}
			return os.Lchown(f, 65534, 65534)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _ := primedCache(t)
			file := e.tokenFiles()[0]
			if err := c.spoil(e, file); err == errSkip {
				t.Skip("needs root")
			} else if err != nil {
				t.Fatal(err)
			}
			if e.run("token", "-i", "c1") == 0 {
				t.Fatal("untrusted cache entry was used")
			}
			t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
			e.mustRun("token", "-i", "c1")
			e.cred()
			assertMode(t, e.cache, 0o700)
			assertMode(t, file, 0o600)
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
			e.mustRun("token", "-i", "c1") // replaced entry is trusted again
		})
	}
}

var errSkip = errors.New("skip")

func TestTokenCacheRefreshNearExpiry(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	t.Setenv("AWS_REGION", "us-west-2")
	t0 := time.Now()
	e.now = func() time.Time { return t0 }
	e.mustRun("token", "-i", "c1")
	first := e.cred()

	// 13 minutes on: 1 minute left, more than 60 s → still served.
	e.now = func() time.Time { return t0.Add(12*time.Minute + 50*time.Second) }
	e.mustRun("token", "-i", "c1")
	if e.cred().Status.Token != first.Status.Token {
		t.Fatal("token with more than 60 s left was not reused")
	}
	// 30 s left → refreshed.
	e.now = func() time.Time { return t0.Add(13*time.Minute + 30*time.Second) }
	e.mustRun("token", "-i", "c1")
	second := e.cred()
	if second.Status.Token == first.Status.Token || !second.Status.ExpirationTimestamp.After(first.Status.ExpirationTimestamp.Time) {
		t.Fatal("token with 30 s left was served instead of refreshed")
	}
}

func TestTokenNoCacheAndCacheClear(t *testing.T) {
	e, _ := primedCache(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	before, _ := os.ReadFile(e.tokenFiles()[0])
	e.mustRun("token", "-i", "other", "--no-cache")
	if n := len(e.tokenFiles()); n != 1 {
		t.Fatalf("--no-cache wrote the cache (%d token files)", n)
	}
	after, _ := os.ReadFile(e.tokenFiles()[0])
	if string(before) != string(after) {
		t.Fatal("--no-cache rewrote an entry")
	}

	e.mustRun("cache", "clear")
	if !strings.Contains(e.stdout, "removed 1 cached file") || !strings.Contains(e.stdout, e.cache) {
		t.Fatalf("cache clear said %q", e.stdout)
	}
	if len(e.tokenFiles()) != 0 {
		t.Fatal("cache clear left token files")
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if e.run("token", "-i", "c1") == 0 {
		t.Fatal("served after cache clear")
	}
	e.mustRun("cache", "dir")
	if strings.TrimSpace(e.stdout) != e.cache {
		t.Fatalf("cache dir = %q", e.stdout)
	}
	// Without the override the cache lives under the home directory.
	t.Setenv("IAMGATE_CACHE_DIR", "")
	e.mustRun("cache", "dir")
	if strings.TrimSpace(e.stdout) != filepath.Join(e.dir, ".kube", "cache", "iamgate") {
		t.Fatalf("default cache dir = %q", e.stdout)
	}
}

// TestTokenCacheKeyCoversAWSAccessKey: the SDK also takes static keys from
// AWS_ACCESS_KEY/AWS_SECRET_KEY, so switching them selects another identity
// and must miss the cache rather than hand out the token the first one signed.
func TestTokenCacheKeyCoversAWSAccessKey(t *testing.T) {
	const otherKeyID = "AKIAOTHEREXAMPLE0001"
	e := newTokenEnv(t)
	t.Setenv("AWS_REGION", "us-west-2")
	t.Setenv("AWS_ACCESS_KEY", testKeyID)
	t.Setenv("AWS_SECRET_KEY", testSecret)
	e.mustRun("token", "-i", "c1")
	t.Setenv("AWS_ACCESS_KEY", otherKeyID)
	e.mustRun("token", "-i", "c1")
	if c := decodeTokenURL(t, e.cred().Status.Token).Query().Get("X-Amz-Credential"); !strings.HasPrefix(c, otherKeyID+"/") {
		t.Fatalf("AWS_ACCESS_KEY=%s got a token signed as %s", otherKeyID, c)
	}
}
