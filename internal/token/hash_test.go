package token

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestHashIsAuditForm pins the form both sides print: 16 lowercase hex
// digits of SHA-256, independently recomputed; nothing for no token.
func TestHashIsAuditForm(t *testing.T) {
	const tok = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8"
	sum := sha256.Sum256([]byte(tok))
	if got, want := Hash(tok), hex.EncodeToString(sum[:])[:16]; got != want {
		t.Fatalf("Hash = %q, want %q", got, want)
	}
	if Hash("") != "" {
		t.Fatal("an empty token has a hash")
	}
}
