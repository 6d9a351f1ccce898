package crd

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// testFirstListConsistent records the backend's requests to the real
// apiserver: its first list must be a consistent read (no
// resourceVersion=0, which the watch cache may answer with data older
// than a write already acknowledged).
func testFirstListConsistent(t *testing.T, env *kube.Env) {
	var mu sync.Mutex
	var lists []string
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/iamidentitymappings") && r.URL.Query().Get("watch") == "" {
				mu.Lock()
				lists = append(lists, r.URL.Query().Get("resourceVersion"))
				mu.Unlock()
			}
			return rt.RoundTrip(r)
		})
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := start(t, dyn, Options{})
	eventually(t, "first sync", b.HasSynced)
	mu.Lock()
	defer mu.Unlock()
	if len(lists) == 0 || lists[0] != "" {
		t.Errorf("lists at resourceVersions %q, want the first at \"\" (a consistent read)", lists)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
