package sts

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/iamgate/iamgate/internal/token"
)

// maxWarnedRegions bounds the memory an attacker can make the warner use by
// varying the region of junk tokens; past it, new regions go unreported.
const maxWarnedRegions = 256

// regionWarner logs, once per region, a token whose region the validator
// accepted only because it matches the partition's region pattern: neither
// the SDK's region list nor server.stsRegions knows it. That is either a
// region newer than this build or someone probing for hosts.
type regionWarner struct {
	extra []string
	log   *slog.Logger

	mu     sync.Mutex
	warned map[string]bool
}

func newRegionWarner(extra []string, log *slog.Logger) *regionWarner {
	return &regionWarner{extra: slices.Clone(extra), log: log, warned: map[string]bool{}}
}

func (w *regionWarner) check(ctx context.Context, req *token.Request) {
	if req.Region == "" || token.ListedRegion(req.Partition, req.Region) || slices.Contains(w.extra, req.Region) {
		return
	}
	key := req.Partition + "/" + req.Region
	w.mu.Lock()
	if w.warned[key] || len(w.warned) >= maxWarnedRegions {
		w.mu.Unlock()
		return
	}
	w.warned[key] = true
	w.mu.Unlock()
	w.log.WarnContext(ctx, "sts region accepted only by the partition's region pattern; list it in server.stsRegions if it is real",
		"region", req.Region, "partition", req.Partition, "host", req.Host)
}
