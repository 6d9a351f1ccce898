package moto

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Counter is an http.RoundTripper that counts AWS query-protocol calls by
// their Action (IAM, EC2 and STS all use it) and can hold them at a gate.
type Counter struct {
	Base http.RoundTripper // nil: NewTransport()

	mu     sync.Mutex
	counts map[string]int
	keys   map[string][]string
	forms  map[string][]url.Values
	gate   chan struct{}
	seen   chan string
}

// Count returns how many requests for action went out.
func (c *Counter) Count(action string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[action]
}

// AccessKeys returns the access key ids that signed the requests for
// action, in order.
func (c *Counter) AccessKeys(action string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys[action]...)
}

// Forms returns the decoded bodies of the requests for action, in order.
func (c *Counter) Forms(action string) []url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]url.Values(nil), c.forms[action]...)
}

// Hold makes every later request wait until the returned release func runs;
// each held request's action is sent on seen first (seen must be drained).
func (c *Counter) Hold(seen chan string) (release func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gate := make(chan struct{})
	c.gate, c.seen = gate, seen
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.gate, c.seen = nil, nil
			c.mu.Unlock()
			close(gate)
		})
	}
}

// RoundTrip implements http.RoundTripper.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	action := req.URL.Query().Get("Action")
	var form url.Values
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if f, err := url.ParseQuery(string(body)); err == nil && f.Get("Action") != "" {
			action, form = f.Get("Action"), f
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	c.mu.Lock()
	if c.counts == nil {
		c.counts, c.keys, c.forms = map[string]int{}, map[string][]string{}, map[string][]url.Values{}
	}
	c.forms[action] = append(c.forms[action], form)
	c.counts[action]++
	c.keys[action] = append(c.keys[action], accessKey(req.Header.Get("Authorization")))
	gate, seen := c.gate, c.seen
	c.mu.Unlock()
	if gate != nil {
		seen <- action
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	base := c.Base
	if base == nil {
		base = NewTransport()
	}
	return base.RoundTrip(req)
}

// accessKey extracts the access key id from a SigV4 Authorization header.
func accessKey(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}
