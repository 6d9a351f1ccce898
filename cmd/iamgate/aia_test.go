package main

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/cli"
	"github.com/iamgate/iamgate/internal/execcred"
	"github.com/iamgate/iamgate/internal/tokencache"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

// TestFrontFindsTokenLikeTheCore checks that the front locates "token" in a
// command line exactly where cobra does in the core, global flags first or
// not: otherwise the front would serve a command line the core rejects, or
// exec the core for one it could answer.
func TestFrontFindsTokenLikeTheCore(t *testing.T) {
	for _, args := range [][]string{
		{"token", "-i", "c1"},
		{"-l", "json", "token", "-i", "c1", "--token-only"},
		{"--log-format", "json", "token", "-i", "c1"},
		{"--log-format=json", "token", "-i", "c1"},
		{"-c", "cfg.yaml", "token"},
		{"--feature-gates", "SSORoleMatch=true", "token", "-i", "c1"},
		{"--feature-gates=SSORoleMatch=true", "-i", "c1", "token"},
		{"-i", "c1", "token", "-l", "text"},
		{"-i", "token"},                       // "token" is -i's value
		{"--token-only", "token", "-i", "c1"}, // cobra takes "token" as the value
		{"-l", "json", "version"},
		{"version", "token"},
		{"--", "token"},
		{"-l"},
		{},
		{"cache", "clear"},
		{"token", "token"},
	} {
		root := cli.NewRootCommand(cli.Deps{}, cli.Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard})
		cmd, coreRest, err := root.Find(args)
		coreIsToken := err == nil && cmd.Name() == "token"
		rest, ok := tokenArgs(args)
		if ok != coreIsToken || (ok && !slices.Equal(rest, coreRest)) {
			t.Errorf("%q: front (%v, %q), core (%v, %q)", args, ok, rest, coreIsToken, coreRest)
		}
	}
}

// TestFrontTokenFlagsMatchTheCore compares the two token flag sets: same
// names and shorthands, and the same flags take a value. A flag only the core
// knew would make the front exec the core for every call that uses it; one
// only the front knew would be served from the cache but refused on a miss.
func TestFrontTokenFlagsMatchTheCore(t *testing.T) {
	root := cli.NewRootCommand(cli.Deps{}, cli.Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard})
	cmd, _, err := root.Find([]string{"token"})
	if err != nil || cmd.Name() != "token" {
		t.Fatalf("core token command: %v", err)
	}
	cmd.InitDefaultHelpFlag()
	core := cmd.Flags()
	var o tokenflags.Options
	var g aiaGlobals
	front := newTokenFlagSet(&o, &g)
	front.BoolP("help", "h", false, "")
	describe := func(fs *pflag.FlagSet) map[string]string {
		m := map[string]string{}
		fs.VisitAll(func(f *pflag.Flag) { m[f.Name] = "-" + f.Shorthand + " noopt=" + f.NoOptDefVal })
		return m
	}
	c, f := describe(core), describe(front)
	for name, want := range c {
		if f[name] != want {
			t.Errorf("--%s: core %q, front %q", name, want, f[name])
		}
	}
	for name := range f {
		if _, ok := c[name]; !ok {
			t.Errorf("--%s: only the front has it", name)
		}
	}
	for _, name := range []string{"config", "log-format", "feature-gates", "cluster-id", "role", "external-id",
		"session-name", "forward-session-name", "region", "token-only", "cache"} {
		if _, ok := c[name]; !ok {
			t.Errorf("core token lacks aws-iam-authenticator's --%s", name)
		}
	}
}

// TestServeCachedWithAIAGlobalFlags: -l text|json is served from the cache;
// -c, --feature-gates and other -l values go to the core; DEFAULT_ROLE keys
// the token as --role does.
func TestServeCachedWithAIAGlobalFlags(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{tokencache.DirEnv: dir, execcred.EnvExecInfo: ""}
	getenv := func(k string) string { return env[k] }
	now := time.Now()
	put := func(o tokenflags.Options) {
		t.Helper()
		e := tokencache.Entry{Token: fakeToken, Expires: now.Add(10 * time.Minute)}
		if err := (tokencache.Store{Dir: dir}).WriteToken(o.TokenKey(getenv), e); err != nil {
			t.Fatal(err)
		}
	}
	serve := func(args ...string) (bool, string) {
		var out bytes.Buffer
		code, ok := serveCached(args, getenv, now, &out, io.Discard)
		return ok && code == 0, out.String()
	}
	put(tokenflags.Options{ClusterID: "c1"})
	for _, args := range [][]string{
		{"-l", "json", "-i", "c1", "--token-only"},
		{"-i", "c1", "--log-format=text", "--token-only"},
	} {
		if ok, out := serve(args...); !ok || out != fakeToken+"\n" {
			t.Errorf("%v: served %v, stdout %q", args, ok, out)
		}
	}
	for _, args := range [][]string{
		{"-i", "c1", "-c", "cfg.yaml"},
		{"-i", "c1", "--config="},
		{"-i", "c1", "--feature-gates=SSORoleMatch=true"},
		{"-i", "c1", "-l", "logfmt"}, // the core prints AIA's warning
	} {
		if ok, _ := serve(args...); ok {
			t.Errorf("%v: served by the front; the core must decide", args)
		}
	}

	const role = "arn:aws:iam::111122223333:role/k8s"
	env[tokenflags.DefaultRoleEnv] = role
	if ok, _ := serve("-i", "c1"); ok {
		t.Error("DEFAULT_ROLE set: served the token signed without the role")
	}
	put(tokenflags.Options{ClusterID: "c1", Role: role})
	if ok, _ := serve("-i", "c1"); !ok {
		t.Error("DEFAULT_ROLE: the token keyed with that role was not served")
	}
	if ok, _ := serve("-i", "c1", "-r", "arn:aws:iam::111122223333:role/other"); ok {
		t.Error("-r must win over DEFAULT_ROLE")
	}
}
