package awsauth_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func parseRoles(text string) ([]mapping.Entry, []mapping.Problem) {
	return awsauth.ParseSectionYAML(mapping.SectionRoles, []byte(text), awsauth.Source{})
}

func parseUsers(text string) ([]mapping.Entry, []mapping.Problem) {
	return awsauth.ParseSectionYAML(mapping.SectionUsers, []byte(text), awsauth.Source{})
}

func parseGroups(text string) ([]mapping.Entry, []mapping.Problem) {
	return awsauth.ParseSectionYAML(mapping.SectionGroups, []byte(text), awsauth.Source{})
}

// accounts are mapAccounts entries.
func accounts(ids ...string) []mapping.Entry {
	var out []mapping.Entry
	for _, id := range ids {
		out = append(out, mapping.Entry{Kind: mapping.KindAccount, Account: id})
	}
	return out
}

// build indexes the entries of every list given, in order, with o (its
// Logger set to the test log).
func build(t *testing.T, o rules.Options, lists ...[]mapping.Entry) (*rules.Table, []mapping.Problem) {
	t.Helper()
	var all []mapping.Entry
	for _, l := range lists {
		all = append(all, l...)
	}
	o.Logger = quietLogger(t)
	return rules.Build("T", all, o)
}

// refused reports whether e is a refused entry that keeps only what names
// its principal.
func refused(e mapping.Entry) bool {
	return e.Refused != nil && e.Username == "" && e.Groups == nil && e.UserID == ""
}

// joined is what a caller that refuses bad input reports: every problem.
func joined(ps []mapping.Problem) error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// quietLogger sends the Table's warnings to the test log.
func quietLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
