package cli

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestSTSCacheFlags: --sts-cache-ttl and --sts-max-in-flight override the
// file, and --sts-cache-ttl=0 turns the identity cache off.
func TestSTSCacheFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		ttl      time.Duration
		inFlight int
	}{
		{nil, 60 * time.Second, 64},
		{[]string{"--sts-cache-ttl=0"}, 0, 64},
		{[]string{"--sts-cache-ttl=5s", "--sts-max-in-flight=8"}, 5 * time.Second, 8},
	} {
		f := &serverFlags{}
		fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
		f.addFlags(fs)
		if err := fs.Parse(append([]string{"-i", "c"}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		c, err := f.load(fs, nil)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if *c.Server.STSCacheTTL != tc.ttl || c.Server.STSMaxInFlight != tc.inFlight {
			t.Errorf("%v: ttl %v, in flight %d; want %v, %d", tc.args, *c.Server.STSCacheTTL, c.Server.STSMaxInFlight, tc.ttl, tc.inFlight)
		}
	}
}
