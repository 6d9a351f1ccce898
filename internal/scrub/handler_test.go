package scrub

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestHandlerKeepsScrubbedAccountsOutOfEveryField(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewJSONHandler(&buf, nil), New([]string{"444455556666"})))
	log = log.With("backend", "arn:aws:iam::444455556666:role/x")
	log.WithGroup("g").Warn("entry arn:aws:iam::444455556666:role/a skipped",
		"problem", errors.New("mapRoles[0] (arn:aws:iam::444455556666:role/a): bad"),
		"groups", []string{"u-444455556666"},
		slog.Group("inner", "arn", "arn:aws:sts::444455556666:assumed-role/a/s"),
		"other", "arn:aws:iam::111122223333:role/kept")
	out := buf.String()
	if strings.Contains(out, "444455556666") {
		t.Errorf("scrubbed account in the log line: %s", out)
	}
	if !strings.Contains(out, "111122223333") || strings.Count(out, Text) < 5 {
		t.Errorf("line = %s; want other accounts kept and 5 scrubbed values", out)
	}
}

func TestHandlerWithoutAccountsIsTheHandler(t *testing.T) {
	h := slog.NewTextHandler(&bytes.Buffer{}, nil)
	if Handler(h, New(nil)) != slog.Handler(h) {
		t.Error("Handler with no accounts wrapped h")
	}
}
