// Package browsertest opens a page in a real headless Chromium (Debian's
// chromium package) over the DevTools protocol and records what a person
// would not see: console errors, uncaught exceptions, and every request
// the page makes. It is test support for the graph's HTML page.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Need finds a Debian-packaged tool a test drives. `make test` installs
// them (the Makefile's deps target) and sets IAMGATE_REQUIRE_TOOLS, so a
// missing tool fails there; a bare `go test` without them skips, saying
// how to get them.
func Need(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := "SKIPPED: " + names[0] + " is not installed (apt-get install -y " + pkg + ", or run make test, which installs it)"
	if os.Getenv("IAMGATE_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Page is one page open in its own headless browser.
type Page struct {
	Ctx context.Context
	mu  sync.Mutex
	// Problems are console errors, exceptions and log entries of level
	// error (CSP violations, failed loads), as text.
	problems []string
	requests []string
}

// Open starts Chromium with an empty profile and every background
// connection off, and loads url. The browser is closed when t ends.
func Open(t testing.TB, url string) *Page {
	t.Helper()
	bin := Need(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1500, 900),
	}
	p := &Page{}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	// The listener sees every event from the tab's start, the page's first
	// request and any error while it loads included.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(p.record))
	t.Cleanup(func() { cancel(); cancelA() })
	// The first action starts the browser, whose life is that action's
	// context: no timeout on it; the load gets one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	lctx, cancelL := context.WithTimeout(ctx, 60*time.Second)
	defer cancelL()
	if err := chromedp.Do(lctx, chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("load %s in chromium: %v", url, err)
	}
	p.Ctx = ctx
	return p
}

func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == "error" || ev.Type == "assert" {
			s := "console." + string(ev.Type) + ":"
			for _, a := range ev.Args {
				s += " " + string(a.Value) + a.Description
			}
			p.problems = append(p.problems, s)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		s := "exception: " + d.Text
		if d.Exception != nil {
			s += " " + d.Exception.Description
		}
		p.problems = append(p.problems, s)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p.problems = append(p.problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
	}
}

// Problems returns what went wrong on the page so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Requests returns every URL the page asked for, the page itself first.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Eval runs js in the page and stores its result in out.
func (p *Page) Eval(t testing.TB, js string, out any) {
	t.Helper()
	raw, err := chromedp.Run(p.Ctx, chromedp.Evaluate[json.RawMessage](js))
	if err != nil {
		t.Fatalf("evaluate %q: %v", js, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("evaluate %q: result %s: %v", js, raw, err)
	}
}

// Screenshot writes a PNG of the whole page to path.
func (p *Page) Screenshot(t testing.TB, path string) {
	t.Helper()
	buf, err := chromedp.Run(p.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
