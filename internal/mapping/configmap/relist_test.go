package configmap

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

// These tests drive the backend's real informer against a scripted API, to
// reach what a real apiserver only does by chance: a watch that ends and a
// relist that finds the ConfigMap unchanged, gone, or deleted and re-created
// in between. Ending a watch makes the reflector relist after its backoff
// (about a second).

// scriptedAPI answers the backend's list and watch requests for configmaps.
type scriptedAPI struct {
	t       *testing.T
	mu      sync.Mutex
	items   []corev1.ConfigMap // what the next list returns
	listRV  string             // the list's resourceVersion
	listRVs []string           // resourceVersions the backend listed at
	watches chan *watch.RaceFreeFakeWatcher
}

func newScriptedAPI(t *testing.T, listRV string, items ...corev1.ConfigMap) (*fake.Clientset, *scriptedAPI) {
	s := &scriptedAPI{t: t, items: items, listRV: listRV, watches: make(chan *watch.RaceFreeFakeWatcher, 10)}
	c := fake.NewClientset()
	c.PrependReactor("list", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.listRVs = append(s.listRVs, a.(k8stesting.ListActionImpl).GetListOptions().ResourceVersion)
		l := &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: s.listRV}}
		for _, cm := range s.items {
			l.Items = append(l.Items, *cm.DeepCopy())
		}
		return true, l, nil
	})
	c.PrependWatchReactor("configmaps", func(k8stesting.Action) (bool, watch.Interface, error) {
		w := watch.NewRaceFreeFake()
		s.watches <- w
		return true, w, nil
	})
	return c, s
}

// relist sets what the next list returns and ends the current watch w with
// "too old resource version", as the apiserver does when the watch fell
// behind; it returns the watch the backend opens after relisting. (A watch
// merely closed is resumed without a list.)
func (s *scriptedAPI) relist(w *watch.RaceFreeFakeWatcher, listRV string, items ...corev1.ConfigMap) *watch.RaceFreeFakeWatcher {
	s.t.Helper()
	s.mu.Lock()
	s.items, s.listRV = items, listRV
	lists := len(s.listRVs)
	s.mu.Unlock()
	w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGone,
		Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	next := s.nextWatch()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listRVs) != lists+1 {
		s.t.Fatalf("the backend listed %d times before watching again, want once", len(s.listRVs)-lists)
	}
	return next
}

func (s *scriptedAPI) nextWatch() *watch.RaceFreeFakeWatcher {
	s.t.Helper()
	select {
	case w := <-s.watches:
		return w
	case <-time.After(waitTimeout):
		s.t.Fatalf("the backend opened no watch within %v", waitTimeout)
		return nil
	}
}

func awsAuthObject(uid types.UID, rv string, data map[string]string) corev1.ConfigMap {
	return corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: DefaultNamespace, Name: DefaultName,
		UID: uid, ResourceVersion: rv}, Data: data}
}

var brokenAwsAuth = map[string]string{"mapRoles": "- rolearn: [\n"}

// startScripted runs a backend on the scripted API with a recorder whose
// Events the test reads.
func startScripted(t *testing.T, c *fake.Clientset) (*fixture, *record.FakeRecorder) {
	t.Helper()
	rec := record.NewFakeRecorder(100)
	return startBackendWith(t, c, Options{Namespace: DefaultNamespace, Name: DefaultName, Recorder: rec}), rec
}

// events drains the Events recorded so far.
func events(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// The first list must be a consistent read (resourceVersion ""), not "0",
// which the apiserver answers from its watch cache: that may not yet hold an
// edit already acknowledged, so a backend started right after it synced to
// the version before, or to no ConfigMap at all.
func TestInitialListIsConsistentRead(t *testing.T) {
	c, api := newScriptedAPI(t, "10", awsAuthObject("uid-a", "10", seedAwsAuth))
	f, _ := startScripted(t, c)
	f.waitApplied("10")
	w := api.relist(api.nextWatch(), "11", awsAuthObject("uid-a", "10", seedAwsAuth))
	w.Modify(ptr(awsAuthObject("uid-a", "12", seedAwsAuth)))
	f.waitApplied("12")
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.listRVs) != 2 || api.listRVs[0] != "" || api.listRVs[1] != "10" {
		t.Errorf("listed at resourceVersions %q, want [\"\" \"10\"] (consistent first list, then not older than seen)", api.listRVs)
	}
}

// A relist that finds the ConfigMap as last processed (here a rejected
// version) re-parses nothing and keeps the last good mappings: it is neither
// a new load nor a delete.
func TestRelistUnchangedKeepsLastGood(t *testing.T) {
	c, api := newScriptedAPI(t, "10", awsAuthObject("uid-a", "10", seedAwsAuth))
	f, rec := startScripted(t, c)
	f.waitApplied("10")
	w := api.nextWatch()
	w.Modify(ptr(awsAuthObject("uid-a", "11", brokenAwsAuth)))
	f.waitRejected("11")

	w = api.relist(w, "12", awsAuthObject("uid-a", "11", brokenAwsAuth))
	// Events reach the handler in order: once 13 is seen, so was the relist.
	w.Modify(ptr(awsAuthObject("uid-a", "13", brokenAwsAuth)))
	f.waitRejected("13")
	wantMapped(t, f.b, session("K10Basic", "bob"), "k10-basic-user", "k10:basic")
	if n := f.loadErrors(); n != 2 {
		t.Errorf("load errors = %v, want 2 (resourceVersions 11 and 13; the relist of 11 is not re-parsed)", n)
	}
	evs := events(rec)
	if len(evs) != 2 || !strings.Contains(evs[1], "resourceVersion 13") || !strings.Contains(evs[1], "resourceVersion 10 stay in effect") {
		t.Errorf("Events %q, want one per rejected version, the last keeping resourceVersion 10", evs)
	}
}

// A relist that no longer finds the ConfigMap (the delete happened while the
// watch was down) delivers a DeletedFinalStateUnknown tombstone: the
// mappings go, and so does last-good.
func TestRelistWithoutConfigMapRemovesMappings(t *testing.T) {
	c, api := newScriptedAPI(t, "10", awsAuthObject("uid-a", "10", seedAwsAuth))
	f, _ := startScripted(t, c)
	f.waitApplied("10")
	w := api.relist(api.nextWatch(), "12")
	f.waitFor("delete", func(o observation) bool { return o.deleted })
	wantNotMapped(t, f.b, session("K10Basic", "bob"))

	w.Add(ptr(awsAuthObject("uid-b", "13", brokenAwsAuth)))
	f.waitRejected("13")
	// Nothing good was read from the new object: deny, rather than let a
	// later backend decide for whom aws-auth may well map differently.
	wantRefused(t, f.b, session("K10Basic", "bob"))
}

// Deleted and re-created while the watch was down, the ConfigMap comes back
// from the relist as an update of the same key, with a new UID and no delete
// before it. The deleted object's mappings must not serve as last-good for
// the new one's broken data.
func TestRelistRecreatedConfigMapDropsLastGood(t *testing.T) {
	c, api := newScriptedAPI(t, "10", awsAuthObject("uid-a", "10", seedAwsAuth))
	f, rec := startScripted(t, c)
	f.waitApplied("10")
	w := api.relist(api.nextWatch(), "12", awsAuthObject("uid-b", "12", brokenAwsAuth))
	f.waitRejected("12")
	wantRefused(t, f.b, session("K10Basic", "bob"))
	wantRefused(t, f.b, session("Admin", "alice"))
	if evs := events(rec); len(evs) != 1 || !strings.Contains(evs[0], "no mappings") {
		t.Errorf("Events %q, want one saying no mappings are in effect", evs)
	}

	// Its own good data applies, and is last-good from then on.
	alice := map[string]string{"mapUsers": "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n"}
	w.Modify(ptr(awsAuthObject("uid-b", "13", alice)))
	f.waitApplied("13")
	w.Modify(ptr(awsAuthObject("uid-b", "14", brokenAwsAuth)))
	f.waitRejected("14")
	wantMapped(t, f.b, iamUser("alice"), "alice")
}

func ptr[T any](v T) *T { return &v }
