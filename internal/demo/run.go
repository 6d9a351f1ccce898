package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token/presign"
)

// Options configure Run.
type Options struct {
	// Config is the server config file (cmd/iamgate-demo/config.yaml).
	Config []byte
	// Dir receives the config, certificates, webhook kubeconfig and server
	// log; "" makes a new temporary directory, which is kept.
	Dir string
	// LogTo also receives the server's log (the demo's -v).
	LogTo io.Writer
}

// Report is what Run saw.
type Report struct {
	Dir       string
	LogPath   string
	ServerURL string
	STSAddr   string
	Rows      []Row
	// ExitCode is the server command's exit code after shutdown.
	ExitCode int
}

// Row is one sample's outcome.
type Row struct {
	Sample     Sample
	HTTPStatus int
	Allowed    bool
	Username   string
	Groups     []string
	// PublicError is status.error: generic on purpose.
	PublicError string
	// Audit is the server's log line for this token: the precise reason.
	Audit    AuditRecord
	STSCalls int
	// Err is set when the sample could not be signed or sent.
	Err error
	// Mismatches lists how the outcome differs from Sample.Want.
	Mismatches []string
}

// OK reports whether every row matched its expectation and the server shut
// down cleanly.
func (r *Report) OK() bool {
	for _, row := range r.Rows {
		if len(row.Mismatches) > 0 {
			return false
		}
	}
	return len(r.Rows) > 0 && r.ExitCode == 0
}

// Run starts the STS double and the real server, reviews a token for every
// sample in order, then shuts the server down. An error means the demo could
// not run at all; wrong outcomes are reported in the rows.
func Run(ctx context.Context, o Options) (*Report, error) {
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "iamgate-demo-"); err != nil {
			return nil, fmt.Errorf("make temp dir: %w", err)
		}
	}
	double, err := ststest.New()
	if err != nil {
		return nil, fmt.Errorf("start sts double: %w", err)
	}
	defer double.Close()
	samples := Samples()
	Register(double, samples)

	srv, err := StartServer(ctx, ServerOptions{Dir: dir, Config: o.Config, STSTransport: double.Transport(), LogTo: o.LogTo})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	rep := &Report{Dir: dir, LogPath: srv.LogPath, ServerURL: srv.URL, STSAddr: double.Addr()}
	for _, s := range samples {
		rep.Rows = append(rep.Rows, runSample(ctx, double, srv, s))
	}
	rep.ExitCode = srv.Stop()
	return rep, nil
}

func runSample(ctx context.Context, double *ststest.Server, srv *Server, s Sample) Row {
	row := Row{Sample: s}
	tok, err := Sign(ctx, double, s.Key, s.Cluster, time.Now().Add(-s.Age))
	if err != nil {
		row.Err = err
		row.Mismatches = []string{err.Error()}
		return row
	}
	before := double.Calls()
	rev, err := srv.Review(ctx, tok)
	row.STSCalls = double.Calls() - before
	if err != nil {
		row.Err = err
		row.Mismatches = []string{err.Error()}
		return row
	}
	row.HTTPStatus = rev.HTTPStatus
	row.Allowed = rev.Status.Authenticated
	row.Username = rev.Status.User.Username
	row.Groups = rev.Status.User.Groups
	row.PublicError = rev.Status.Error
	row.Audit, _ = srv.AuditFor(tok)
	row.Mismatches = row.check()
	return row
}

// Sign mints a token with the real client code (presign.Token) from the
// double's credentials for key. cluster "" means ClusterID.
func Sign(ctx context.Context, double *ststest.Server, key, cluster string, at time.Time) (string, error) {
	if cluster == "" {
		cluster = ClusterID
	}
	cfg := aws.Config{Region: Region, Credentials: double.Credentials(key)}
	tok, _, err := presign.Token(ctx, cfg, cluster, presign.Options{Now: func() time.Time { return at }})
	if err != nil {
		return "", fmt.Errorf("sign for %s: %w", key, err)
	}
	return tok, nil
}

// check compares a row with its sample's expectation.
func (row *Row) check() []string {
	w := row.Sample.Want
	var bad []string
	miss := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	if row.Allowed != w.Allowed {
		miss("authenticated = %v, want %v", row.Allowed, w.Allowed)
	}
	wantStatus := http.StatusForbidden
	if w.Allowed {
		wantStatus = http.StatusOK
	}
	if row.HTTPStatus != wantStatus {
		miss("HTTP %d, want %d", row.HTTPStatus, wantStatus)
	}
	if row.Username != w.Username {
		miss("username %q, want %q", row.Username, w.Username)
	}
	if !slices.Equal(row.Groups, w.Groups) {
		miss("groups %q, want %q", row.Groups, w.Groups)
	}
	if (row.PublicError == "") != w.Allowed {
		miss("status.error %q", row.PublicError)
	}
	if row.Audit.Reason != w.Reason {
		miss("audit reason %q, want %q", row.Audit.Reason, w.Reason)
	}
	if row.STSCalls != w.STSCalls {
		miss("%d STS calls, want %d", row.STSCalls, w.STSCalls)
	}
	return bad
}

// ErrMismatch is returned by Check when the outcome is not the expected one.
var ErrMismatch = errors.New("demo outcome differs from the expected one")

// Check returns nil when r.OK(), otherwise an error listing the mismatches.
func (r *Report) Check() error {
	if r.OK() {
		return nil
	}
	var errs []error
	for _, row := range r.Rows {
		for _, m := range row.Mismatches {
			errs = append(errs, fmt.Errorf("%s: %s", row.Sample.Name, m))
		}
	}
	if r.ExitCode != 0 {
		errs = append(errs, fmt.Errorf("server exited with code %d", r.ExitCode))
	}
	return fmt.Errorf("%w: %w", ErrMismatch, errors.Join(errs...))
}
