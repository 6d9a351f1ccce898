package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamgate/iamgate/internal/token/presign"
)

type loadFlags struct {
	url, mode, control, cluster, region, label string
	conns, keys, spread                        int
	dur, warmup                                time.Duration
	h2                                         bool
}

// runLoad mints the tokens first (signing is not part of what is measured),
// then keeps c connections busy for -d after a -warmup that is not counted.
func runLoad(args []string) error {
	var f loadFlags
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.StringVar(&f.url, "url", "", "webhook `URL`, e.g. https://127.0.0.1:21362/authenticate (required)")
	fs.StringVar(&f.mode, "tokens", "repeated", "repeated (one token, an identity-cache hit) or distinct (each token once: one STS call each)")
	fs.StringVar(&f.control, "control", "", "fakests control `address` that registers the signing keys (required)")
	fs.StringVar(&f.cluster, "cluster", "bench", "cluster id the tokens are bound to")
	fs.StringVar(&f.region, "region", "us-west-2", "STS region the tokens name")
	fs.StringVar(&f.label, "label", "", "name printed at the start of the result line")
	fs.IntVar(&f.conns, "c", 16, "concurrent connections, one request in flight on each")
	fs.IntVar(&f.keys, "keys", 10000, "distinct: access keys to register")
	fs.IntVar(&f.spread, "spread", 20, "distinct: tokens per key (signed one second apart)")
	fs.DurationVar(&f.dur, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "unmeasured warm-up before -d")
	fs.BoolVar(&f.h2, "h2", false, "use HTTP/2 (one connection, -c streams) instead of -c HTTP/1.1 connections")
	_ = fs.Parse(args)
	if f.url == "" || f.control == "" || (f.mode != "repeated" && f.mode != "distinct") {
		return errors.New("run needs -url, -control and -tokens repeated|distinct")
	}
	toks, err := mint(f)
	if err != nil {
		return err
	}
	res := drive(f, toks)
	fmt.Println(res.line(f.label))
	return nil
}

func mint(f loadFlags) ([]string, error) {
	keys, per := 1, 1
	if f.mode == "distinct" {
		keys, per = f.keys, f.spread
	}
	prefix := randomPrefix()
	resp, err := http.Post("http://"+f.control+"/keys?prefix="+prefix+"&n="+strconv.Itoa(keys), "text/plain", nil)
	if err != nil {
		return nil, fmt.Errorf("register keys: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("register keys: %s", resp.Status)
	}
	toks := make([]string, keys*per)
	base := time.Now()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < keys; i += workers {
				akid := fmt.Sprintf("AKIA%s%08d", prefix, i)
				cfg := aws.Config{Region: f.region, Credentials: credentials.NewStaticCredentialsProvider(akid, "bench/"+akid, "")}
				for j := range per {
					at := base.Add(-time.Duration(j) * time.Second)
					tok, _, err := presign.Token(context.Background(), cfg, f.cluster, presign.Options{Now: func() time.Time { return at }})
					if err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					toks[j*keys+i] = tok
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, fmt.Errorf("presign: %w", err)
	}
	return toks, nil
}

func randomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'A' + b[i]%26
	}
	return string(b)
}

type result struct {
	lat      []time.Duration
	errs     int64
	took     time.Duration
	ranOut   bool
	firstBad string
}

func drive(f loadFlags, toks []string) result {
	u, _ := url.Parse(f.url)
	tr := &http.Transport{
		// Loopback benchmark against self-signed servers; nothing secret is sent.
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
		MaxIdleConnsPerHost: f.conns,
		MaxConnsPerHost:     f.conns,
		ForceAttemptHTTP2:   f.h2,
	}
	if !f.h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	bodies := make([][]byte, len(toks))
	for i, t := range toks {
		bodies[i], _ = json.Marshal(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": map[string]any{"token": t}})
	}
	var next atomic.Int64
	var measuring atomic.Bool
	var res result
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range f.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var errs int64
			bad := ""
			for {
				select {
				case <-stop:
					mu.Lock()
					res.lat = append(res.lat, lat...)
					res.errs += errs
					if res.firstBad == "" {
						res.firstBad = bad
					}
					mu.Unlock()
					return
				default:
				}
				i := int(next.Add(1) - 1)
				if len(bodies) == 1 {
					i = 0
				} else if i >= len(bodies) {
					mu.Lock()
					res.ranOut = true
					mu.Unlock()
					<-stop
					continue
				}
				t0 := time.Now()
				ok, why := review(hc, u.String(), bodies[i])
				d := time.Since(t0)
				if measuring.Load() {
					lat = append(lat, d)
					if !ok {
						errs++
						if bad == "" {
							bad = why
						}
					}
				}
			}
		}()
	}
	time.Sleep(f.warmup)
	measuring.Store(true)
	start := time.Now()
	time.Sleep(f.dur)
	measuring.Store(false)
	res.took = time.Since(start)
	close(stop)
	wg.Wait()
	return res
}

var allowed = []byte(`"authenticated":true`)

func review(hc *http.Client, u string, body []byte) (bool, string) {
	resp, err := hc.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err.Error()
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err.Error()
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, allowed) {
		return false, fmt.Sprintf("HTTP %d %.200s", resp.StatusCode, b)
	}
	return true, ""
}

func (r result) line(label string) string {
	slices.Sort(r.lat)
	q := func(p float64) float64 {
		if len(r.lat) == 0 {
			return 0
		}
		return float64(r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))].Microseconds()) / 1000
	}
	s := fmt.Sprintf("%s rps=%.0f p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms n=%d errors=%d",
		label, float64(len(r.lat))/r.took.Seconds(), q(.5), q(.9), q(.99), q(1), len(r.lat), r.errs)
	if r.ranOut {
		s += " ran-out-of-tokens(raise -keys)"
	}
	if r.firstBad != "" {
		s += fmt.Sprintf(" first-error=%q", r.firstBad)
	}
	return s
}
