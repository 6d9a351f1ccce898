package cli

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestResolveBuild: the -X stamps win; what they leave empty comes from the
// toolchain's record (go install ...@v1.2.3, or a build with VCS stamping).
func TestResolveBuild(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/iamgate/iamgate", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "-ldflags", Value: "-s -w"},
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2025-05-06T07:08:09Z"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	got := resolveBuild(versionInfo{Version: "dev"}, bi)
	want := versionInfo{
		Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2025-05-06T07:08:09Z",
		ModuleVersion: "v1.2.3", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		BuildFlags: `-trimpath=true -ldflags="-s -w" CGO_ENABLED=0`,
	}
	if got != want {
		t.Errorf("from build info:\n got %+v\nwant %+v", got, want)
	}

	stamped := resolveBuild(versionInfo{Version: "v2.0.0", Commit: "feedface", Date: "2026-01-02T03:04:05Z"}, bi)
	if stamped.Version != "v2.0.0" || stamped.Commit != "feedface" || stamped.Date != "2026-01-02T03:04:05Z" || stamped.ModuleVersion != "v1.2.3" {
		t.Errorf("stamps must win: %+v", stamped)
	}

	// A make build: -buildvcs=false, module version (devel).
	devel := resolveBuild(versionInfo{Version: "dev"}, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if devel.Version != "dev" || devel.Commit != "" || devel.ModuleVersion != "(devel)" {
		t.Errorf("(devel): %+v", devel)
	}
	if none := resolveBuild(versionInfo{}, nil); none.Version != "" || none.GoVersion != runtime.Version() {
		t.Errorf("no build info: %+v", none)
	}
}

// TestVersionPrintsStamps: the stamps reach the one-line text, --version and
// the JSON document, whose values are all strings (AIA's document is read
// as a flat map).
func TestVersionPrintsStamps(t *testing.T) {
	defer func(v, c, d string) { Version, Commit, Date = v, c, d }(Version, Commit, Date)
	Version, Commit, Date = "v9.8.7", "89abcdef0123456789abcdef0123456789abcdef", "2025-11-12T13:14:15Z"

	wantLine := "iamgate v9.8.7 (commit 89abcdef0123, 2025-11-12T13:14:15Z) " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if code, out, errs := runCLI(t, args...); code != 0 || out != wantLine {
			t.Errorf("%v: exit %d stderr %q\n got %q\nwant %q", args, code, errs, out, wantLine)
		}
	}
	code, out, _ := runCLI(t, "version", "-o", "json")
	var doc map[string]string
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("-o json: exit %d %v: %q", code, err, out)
	}
	for k, v := range map[string]string{"Version": Version, "Commit": Commit, "Date": Date, "GoVersion": runtime.Version(),
		"Platform": runtime.GOOS + "/" + runtime.GOARCH} {
		if doc[k] != v {
			t.Errorf("-o json: %s = %q, want %q (%s)", k, doc[k], v, out)
		}
	}
	// The test binary's own build settings.
	if !strings.Contains(doc["BuildFlags"], "GOOS="+runtime.GOOS) {
		t.Errorf("-o json: BuildFlags %q lacks GOOS", doc["BuildFlags"])
	}
	if code, out, _ := runCLI(t, "version", "-s"); code != 0 || !strings.Contains(out, "Commit: "+Commit+"\n") || !strings.Contains(out, "Date: \""+Date+"\"\n") && !strings.Contains(out, "Date: "+Date+"\n") {
		t.Errorf("-s: exit %d %q", code, out)
	}
}
