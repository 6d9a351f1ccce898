package live

import (
	"errors"
	"strings"
	"testing"
)

func TestSummarizeBounded(t *testing.T) {
	var errs []error
	for range 200 {
		errs = append(errs, errors.New(strings.Repeat("x", 30)))
	}
	s := Summarize(errs)
	if len(s) > maxMessage || !strings.Contains(s, "more") {
		t.Errorf("Summarize: %d bytes %q, want ≤ %d ending with a count of the rest", len(s), s[len(s)-20:], maxMessage)
	}
	if got := Summarize([]error{errors.New("a"), errors.New("b")}); got != "a; b" {
		t.Errorf("Summarize = %q", got)
	}
}
