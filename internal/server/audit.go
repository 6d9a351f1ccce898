package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"
)

// tokenHash is how a token appears in logs: the first 16 hex digits of its
// SHA-256, enough to correlate with a client's own log, useless to replay.
func tokenHash(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:8])
}

// record counts and audits one decision: exactly one INFO "review" line.
func (s *Server) record(ctx context.Context, d *decision, apiVersion, remote string, took time.Duration) {
	s.metrics.observe(d, took)

	decisionWord := "deny"
	if d.allow {
		decisionWord = "allow"
	}
	attrs := []slog.Attr{
		slog.String("decision", decisionWord),
		slog.String("reason", d.reason),
		slog.String("tokenHash", d.tokenHash),
	}
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
