package scrub

import (
	"context"
	"log/slog"
)

// Handler wraps h so that no record it writes carries a scrubbed account
// id: the message and every string attribute (in groups too) go through
// Replace. It is the last line of defence behind the callers that drop
// whole ARNs; with no scrubbed accounts it returns h itself.
func Handler(h slog.Handler, a Accounts) slog.Handler {
	if len(a) == 0 {
		return h
	}
	return handler{h: h, a: a}
}

type handler struct {
	h slog.Handler
	a Accounts
}

func (s handler) Enabled(ctx context.Context, l slog.Level) bool { return s.h.Enabled(ctx, l) }

func (s handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, s.a.Replace(r.Message), r.PC)
	r.Attrs(func(at slog.Attr) bool {
		out.AddAttrs(s.attr(at))
		return true
	})
	return s.h.Handle(ctx, out)
}

func (s handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, at := range as {
		clean[i] = s.attr(at)
	}
	return handler{h: s.h.WithAttrs(clean), a: s.a}
}

func (s handler) WithGroup(name string) slog.Handler {
	return handler{h: s.h.WithGroup(name), a: s.a}
}

func (s handler) attr(at slog.Attr) slog.Attr {
	v := at.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(at.Key, s.a.Replace(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, x := range g {
			clean[i] = s.attr(x)
		}
		return slog.Group(at.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(at.Key, s.a.Replace(err.Error()))
		}
		if str, ok := v.Any().(interface{ String() string }); ok {
			return slog.String(at.Key, s.a.Replace(str.String()))
		}
		if ss, ok := v.Any().([]string); ok {
			clean := make([]string, len(ss))
			for i, x := range ss {
				clean[i] = s.a.Replace(x)
			}
			return slog.Any(at.Key, clean)
		}
	}
	return slog.Attr{Key: at.Key, Value: v}
}
