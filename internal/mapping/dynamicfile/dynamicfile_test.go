package dynamicfile

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// fileDoc is the dynamic-file document as aws-iam-authenticator writes it
// (plus iamgate's mapGroups and sso entries).
type fileDoc struct {
	LastUpdatedDateTime string                     `json:"LastUpdatedDateTime,omitempty"`
	Version             string                     `json:"Version,omitempty"`
	MapRoles            []conformance.AWSAuthEntry `json:"mapRoles,omitempty"`
	MapUsers            []conformance.AWSAuthEntry `json:"mapUsers,omitempty"`
	MapGroups           []conformance.AWSAuthEntry `json:"mapGroups,omitempty"`
	MapAccounts         []string                   `json:"mapAccounts,omitempty"`
}

// encode writes entries as a dynamic file, JSON or YAML.
func encode(t *testing.T, asYAML bool, entries ...mapping.Entry) []byte {
	t.Helper()
	d := fileDoc{LastUpdatedDateTime: "1700000000", Version: "7"}
	d.MapRoles, d.MapUsers, d.MapGroups, d.MapAccounts = conformance.AWSAuth(entries)
	data, err := json.MarshalIndent(d, "", "\t")
	if asYAML && err == nil {
		data, err = yaml.JSONToYAML(data)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeAtomic replaces path the way careful writers (and GitOps agents) do.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// start runs a backend on path until the test ends.
func start(t *testing.T, path string, opts Options) *Backend {
	t.Helper()
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Logger == nil && !testing.Verbose() {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b, err := New(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return b
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const acct = "111122223333"

func role(name string) string { return "arn:aws:iam::" + acct + ":role/" + name }

func roleEntry(name, username string) mapping.Entry {
	return mapping.Entry{Kind: mapping.KindRole, ARN: role(name), Username: username}
}

func session(roleName string) mapping.Identity {
	return mapping.Identity{ARN: "arn:aws:sts::" + acct + ":assumed-role/" + roleName + "/s",
		CanonicalARN: role(roleName), AccountID: acct, UserID: "AROAEXAMPLE1111:s", SessionName: "s"}
}

// username maps id, returning "" when it is not mapped.
func username(t *testing.T, b *Backend, id mapping.Identity) string {
	t.Helper()
	r, err := b.Map(context.Background(), id)
	if errors.Is(err, mapping.ErrNotMapped) {
		return ""
	}
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	return r.Username
}

// TestConformance runs the shared suite with every entry kind, the file
// written as JSON and as YAML.
func TestConformance(t *testing.T) {
	for name, asYAML := range map[string]bool{"JSON": false, "YAML": true} {
		t.Run(name, func(t *testing.T) {
			conformance.Run(t, func(t *testing.T, entries []mapping.Entry, o rules.Options) (mapping.Mapper, error) {
				path := filepath.Join(t.TempDir(), "mappings")
				writeAtomic(t, path, encode(t, asYAML, entries...))
				b := start(t, path, Options{Mapping: o})
				eventually(t, "first load or its rejection", func() bool {
					return b.HasSynced() || testutil.ToFloat64(b.m.LoadErrors) > 0
				})
				if !b.HasSynced() {
					return nil, errors.New("file rejected")
				}
				return b, nil
			}, conformance.Capabilities{})
		})
	}
}

func TestReloadsOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mappings.json")
	writeAtomic(t, path, encode(t, false, roleEntry("admin", "admin")))
	// A poll interval longer than the test: only fsnotify can reload.
	b := start(t, path, Options{PollInterval: time.Hour})
	eventually(t, "first load", b.HasSynced)
	if got := username(t, b, session("admin")); got != "admin" {
		t.Fatalf("admin maps to %q", got)
	}
	writeAtomic(t, path, encode(t, false, roleEntry("dev", "dev")))
	eventually(t, "reload after rename", func() bool { return username(t, b, session("dev")) == "dev" })
	if got := username(t, b, session("admin")); got != "" {
		t.Errorf("admin still maps to %q after its entry was removed", got)
	}
	// An in-place write (truncate + write) reloads too.
	if err := os.WriteFile(path, encode(t, false, roleEntry("ops", "ops")), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reload after in-place write", func() bool { return username(t, b, session("ops")) == "ops" })
}

// TestConfigMapVolumeSwap reproduces how the kubelet updates a ConfigMap
// volume: the file is a symlink into "..data", itself a symlink to a
// timestamped directory, and an update repoints "..data" with a rename.
// The file's own inode never changes, so only a directory watch sees it.
func TestConfigMapVolumeSwap(t *testing.T) {
	dir := t.TempDir()
	writeVersion := func(ts string, data []byte) {
		if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ts, "mappings.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(ts, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("..2024_01_01_00_00_00.000000001", encode(t, true, roleEntry("admin", "admin")))
	if err := os.Symlink("..data/mappings.yaml", filepath.Join(dir, "mappings.yaml")); err != nil {
		t.Fatal(err)
	}
	b := start(t, filepath.Join(dir, "mappings.yaml"), Options{PollInterval: time.Hour})
	eventually(t, "first load", b.HasSynced)
	if got := username(t, b, session("admin")); got != "admin" {
		t.Fatalf("admin maps to %q", got)
	}
	writeVersion("..2024_01_01_00_01_00.000000002", encode(t, true, roleEntry("admin", "admin-v2")))
	if err := os.RemoveAll(filepath.Join(dir, "..2024_01_01_00_00_00.000000001")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reload after ..data swap", func() bool { return username(t, b, session("admin")) == "admin-v2" })
}

// TestPollFallback: the configured path is a symlink into another
// directory, whose changes the directory watch cannot see; the periodic
// checksum picks them up.
func TestPollFallback(t *testing.T) {
	real := filepath.Join(t.TempDir(), "real.json")
	writeAtomic(t, real, encode(t, false, roleEntry("admin", "admin")))
	link := filepath.Join(t.TempDir(), "mappings.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	b := start(t, link, Options{PollInterval: 50 * time.Millisecond})
	eventually(t, "first load", b.HasSynced)
	writeAtomic(t, real, encode(t, false, roleEntry("admin", "polled")))
	eventually(t, "reload by polling", func() bool { return username(t, b, session("admin")) == "polled" })
}

func TestBrokenFileKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mappings.json")
	writeAtomic(t, path, encode(t, false, roleEntry("admin", "admin")))
	b := start(t, path, Options{PollInterval: 50 * time.Millisecond})
	eventually(t, "first load", b.HasSynced)
	for i, broken := range []string{
		`{"mapRoles": [{"rolearn": "` + role("admin") + `", "username": "x"`, // truncated JSON
		`{"mapRole": []}`, // misspelt section
		`{"mapRoles": [{"rolearn": "` + role("admin") + `", "username": "{{SesionName}}"}]}`, // unknown template
		"", // empty: what a reader sees mid-write
	} {
		writeAtomic(t, path, []byte(broken))
		eventually(t, "load error counted", func() bool { return testutil.ToFloat64(b.m.LoadErrors) == float64(i+1) })
		if got := username(t, b, session("admin")); got != "admin" {
			t.Fatalf("broken file %d: admin maps to %q, want the last good mapping", i, got)
		}
		if !b.HasSynced() {
			t.Fatal("HasSynced turned false after a broken file")
		}
	}
	writeAtomic(t, path, encode(t, false, roleEntry("admin", "fixed")))
	eventually(t, "reload after fix", func() bool { return username(t, b, session("admin")) == "fixed" })
}

func TestMissingOrBrokenAtStartIsNotSynced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mappings.json")
	b := start(t, path, Options{PollInterval: 50 * time.Millisecond})
	time.Sleep(200 * time.Millisecond)
	if b.HasSynced() {
		t.Fatal("synced without a file")
	}
	// Denied, not "not mapped": a later backend must not decide for an
	// identity the file may map differently.
	if r, err := b.Map(context.Background(), session("admin")); !errors.Is(err, ErrNotSynced) {
		t.Fatalf("Map without a file = %+v, %v; want ErrNotSynced", r, err)
	}
	writeAtomic(t, path, []byte("{not json"))
	eventually(t, "load error counted", func() bool { return testutil.ToFloat64(b.m.LoadErrors) == 1 })
	if b.HasSynced() {
		t.Fatal("synced on a broken file")
	}
	if _, err := b.Map(context.Background(), session("admin")); !errors.Is(err, ErrNotSynced) {
		t.Fatalf("Map with only a broken file: %v; want ErrNotSynced", err)
	}
	if got := testutil.ToFloat64(b.m.LastSuccess); got != 0 {
		t.Errorf("last_load_success = %v after a broken file, want 0", got)
	}
	writeAtomic(t, path, encode(t, false, roleEntry("admin", "admin")))
	eventually(t, "first load", b.HasSynced)
	if got := username(t, b, session("admin")); got != "admin" {
		t.Fatalf("admin maps to %q", got)
	}
	if got := testutil.ToFloat64(b.m.LastSuccess); got != 1 {
		t.Errorf("last_load_success = %v after a good file, want 1", got)
	}
}

func TestDeletedFileRemovesMappings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mappings.json")
	writeAtomic(t, path, encode(t, false, roleEntry("admin", "admin"), mapping.Entry{Kind: mapping.KindAccount, Account: acct}))
	b := start(t, path, Options{PollInterval: time.Hour})
	eventually(t, "first load", b.HasSynced)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "mappings removed", func() bool { return username(t, b, session("admin")) == "" })
	if got := username(t, b, session("dev")); got != "" {
		t.Errorf("mapAccounts still maps dev to %q", got)
	}
	writeAtomic(t, path, encode(t, false, roleEntry("admin", "back")))
	eventually(t, "reload after re-create", func() bool { return username(t, b, session("admin")) == "back" })
}

func TestBadEntrySkippedOthersApply(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mappings.json")
	writeAtomic(t, path, []byte(`{"mapRoles": [
		{"rolearn": "`+role("admin")+`", "username": "admin"},
		{"rolearn": "`+role("dev")+`", "username": "dev", "group": ["typo"]},
		{"rolearn": "arn:aws:iam::1:role/short-account", "username": "x"}
	]}`))
	b := start(t, path, Options{})
	eventually(t, "first load", b.HasSynced)
	if got := username(t, b, session("admin")); got != "admin" {
		t.Errorf("admin maps to %q", got)
	}
	// The skipped entry's rolearn is readable: it denies dev rather than
	// leaving dev to later backends (or to an earlier entry for dev).
	if r, err := b.Map(context.Background(), session("dev")); err == nil || errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("entry with unknown field: Map(dev) = %+v, %v; want a deny", r, err)
	}
	if got := testutil.ToFloat64(b.m.Invalid); got != 2 {
		t.Errorf("invalid entries gauge = %v, want 2", got)
	}
	if got := testutil.ToFloat64(b.m.LoadErrors); got != 0 {
		t.Errorf("load errors = %v, want 0", got)
	}
}

func TestUserIDStrict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mappings.json")
	writeAtomic(t, path, encode(t, false,
		mapping.Entry{Kind: mapping.KindRole, ARN: role("admin"), Username: "admin", UserID: "AROAEXAMPLE1111"},
		roleEntry("dev", "dev"),
	))
	b := start(t, path, Options{UserIDStrict: true})
	eventually(t, "first load", b.HasSynced)
	if got := username(t, b, session("admin")); got != "admin" {
		t.Errorf("admin with matching userid maps to %q", got)
	}
	recreated := session("admin")
	recreated.UserID = "AROAEXAMPLE2222:s"
	if got := username(t, b, recreated); got != "" {
		t.Errorf("re-created role (other unique ID) maps to %q", got)
	}
	// The entry without userid is left out but still the last entry for
	// dev: it denies dev (not ErrNotMapped, which would let later backends
	// or mapAccounts decide).
	if r, err := b.Map(context.Background(), session("dev")); err == nil || errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("entry without userid in strict mode: Map(dev) = %+v, %v; want a deny", r, err)
	}
	if got := testutil.ToFloat64(b.m.Invalid); got != 1 {
		t.Errorf("invalid entries gauge = %v, want 1", got)
	}
}

func TestRunTwice(t *testing.T) {
	b := start(t, filepath.Join(t.TempDir(), "f"), Options{})
	eventually(t, "Run started", b.started.Load)
	if err := b.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
	if _, err := New("", Options{}); err == nil {
		t.Error("New with empty path succeeded")
	}
}
