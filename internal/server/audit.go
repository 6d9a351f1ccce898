package server

import (
	"context"
	"log/slog"
	"time"
)

// record counts and audits one decision: exactly one INFO "review" line.
func (s *Server) record(ctx context.Context, d *decision, apiVersion, remote string, took time.Duration) {
	s.metrics.observe(d, took)

	decisionWord := "deny"
	if d.allow {
		decisionWord = "allow"
	}
	// Room for every attribute below, so the line is built without regrowing.
	attrs := make([]slog.Attr, 0, 17)
	attrs = append(attrs,
		slog.String("decision", decisionWord),
		slog.String("reason", d.reason),
		slog.String("tokenHash", d.tokenHash),
	)
	if d.scrubbed {
		attrs = append(attrs, slog.Bool("scrubbed", true))
	} else {
		attrs = append(attrs,
			slog.String("arn", d.id.ARN),
			slog.String("canonicalArn", d.id.CanonicalARN),
			slog.String("accountId", d.id.AccountID),
			slog.String("userId", d.id.UserID),
			slog.String("accessKeyId", d.id.AccessKeyID),
		)
	}
	var username string
	var groups []string
	var source string
	if d.res != nil {
		username, groups, source = d.res.Username, d.res.Groups, d.res.Source
	}
	sc := s.scrubberFor(d)
	attrs = append(attrs,
		slog.String("source", sc.text(source)),
		slog.String("username", sc.text(username)),
		slog.Any("groups", sc.list(groups)),
		slog.Int("status", d.status),
		slog.String("apiVersion", apiVersion),
		slog.String("remote", remote),
		slog.Duration("duration", took),
	)
	if d.detail != "" {
		attrs = append(attrs, slog.String("detail", sc.text(d.detail)))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "review", attrs...)
}
