package ststest

import (
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Break is a way for an answer to go wrong below the level of STS error
// codes: the transport, the framing or the body. Tests queue them with
// BreakNext to check that a client never reads a broken answer as a yes.
type Break int

const (
	// BreakReset closes the connection with a TCP RST before answering.
	BreakReset Break = iota + 1
	// BreakGarbage answers 200 with a body that is neither XML nor JSON.
	BreakGarbage
	// BreakTruncated answers 200 with a Content-Length the body never
	// reaches (the start of a real identity answer), then closes.
	BreakTruncated
	// BreakSlowBody sends the headers of a 200 at once, then one byte of
	// a real identity answer every SlowBodyInterval, and never finishes
	// before the request's context ends.
	BreakSlowBody
	// BreakRedirect answers 307 to https://attacker.example/ (STS never
	// redirects; following one would send the signed request elsewhere).
	BreakRedirect
	// BreakHang sends nothing until the request's context ends.
	BreakHang
)

// SlowBodyInterval is the pause between the bytes of a BreakSlowBody answer.
const SlowBodyInterval = 50 * time.Millisecond

func (b Break) String() string {
	switch b {
	case BreakReset:
		return "reset"
	case BreakGarbage:
		return "garbage"
	case BreakTruncated:
		return "truncated"
	case BreakSlowBody:
		return "slow-body"
	case BreakRedirect:
		return "redirect"
	case BreakHang:
		return "hang"
	}
	return "break(" + strconv.Itoa(int(b)) + ")"
}

// BreakNext makes the next n requests fail as b describes. Breaks are
// answered before the faults FailNext and ThrottleNext queue.
func (s *Server) BreakNext(n int, b Break) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ; n > 0; n-- {
		s.breaks = append(s.breaks, b)
	}
}

// SetUntrustedTLS makes every new TLS handshake present a certificate from
// a CA clients do not trust (a TLS failure as an interception proxy or a
// misrouted endpoint causes), and closes open connections so that pooled
// ones cannot bypass it. false goes back to the trusted CA.
func (s *Server) SetUntrustedTLS(on bool) {
	s.mu.Lock()
	s.untrusted = on
	s.mu.Unlock()
	if on {
		s.dropConns()
	}
}

// OpenConns is the number of client connections the double holds open.
func (s *Server) OpenConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
}

func (s *Server) dropConns() {
	s.mu.Lock()
	cs := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
	}
}

// getCertificate picks the trusted or the untrusted authority.
func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	untrusted := s.untrusted
	s.mu.Unlock()
	if untrusted {
		return s.rogue.getCertificate(hello)
	}
	return s.ca.getCertificate(hello)
}

// serveBreak answers r as b says.
func (s *Server) serveBreak(w http.ResponseWriter, r *http.Request, b Break, reqID string) {
	body := identityBody(reqID)
	switch b {
	case BreakReset:
		rc := http.NewResponseController(w)
		conn, _, err := rc.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := underlyingTCP(conn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	case BreakGarbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("\x00\xffnot an answer <GetCallerIdentityResponse"))
	case BreakTruncated:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		panic(http.ErrAbortHandler) // closes the connection mid-body
	case BreakSlowBody:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		t := time.NewTicker(SlowBodyInterval)
		defer t.Stop()
		for i := 0; ; i++ {
			_, _ = w.Write(body[i%len(body) : i%len(body)+1])
			_ = rc.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
			}
		}
	case BreakRedirect:
		w.Header().Set("Location", "https://attacker.example/?"+r.URL.RawQuery)
		w.WriteHeader(http.StatusTemporaryRedirect)
	case BreakHang:
		<-r.Context().Done()
	}
}

// identityBody is a real-looking JSON identity answer, used as the part a
// broken answer gets through.
func identityBody(reqID string) []byte {
	return []byte(`{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"111122223333",` +
		`"Arn":"arn:aws:iam::111122223333:role/Admin","UserId":"AROAEXAMPLE"},"ResponseMetadata":{"RequestId":"` + reqID + `"}}}`)
}

func underlyingTCP(c net.Conn) (*net.TCPConn, bool) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, ok := c.(*net.TCPConn)
	return t, ok
}

// Heal drops every queued break and fault and goes back to the trusted
// certificate: STS has recovered. Tests that keep STS broken for a while
// queue more failures than they need (the client may retry a request on a
// fresh connection, consuming more than one) and call Heal after.
func (s *Server) Heal() {
	s.mu.Lock()
	s.breaks, s.faults, s.untrusted = nil, nil, false
	s.mu.Unlock()
}
