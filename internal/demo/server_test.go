package demo

import (
	"context"
	"net"
	"os"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// TestStartServerRetriesWhenPortTaken: a port that was free when picked may
// be taken before the server binds it; StartServer then tries new ports.
func TestStartServerRetriesWhenPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	attempts := 0
	pickPorts = func(n int) ([]int, error) {
		attempts++
		ports, err := freePorts(n)
		if attempts == 1 && err == nil {
			ports[0] = taken.Addr().(*net.TCPAddr).Port
		}
		return ports, err
	}
	t.Cleanup(func() { pickPorts = freePorts })

	cfg, err := os.ReadFile("../../cmd/iamgate-demo/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := ststest.Start(t)
	s, err := StartServer(context.Background(), ServerOptions{Dir: t.TempDir(), Config: cfg, STSTransport: d.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	if code := s.Stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if attempts != 2 {
		t.Fatalf("%d attempts, want 2 (one clash, one success)", attempts)
	}
}
