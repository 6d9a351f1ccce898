package demo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// AuditRecord is one "review" line of the server's JSON log. The TokenReview
// answer only says "invalid token" or "not mapped", on purpose; this line is
// where an operator finds out why.
type AuditRecord struct {
	Decision     string   `json:"decision"`
	Reason       string   `json:"reason"`
	TokenHash    string   `json:"tokenHash"`
	ARN          string   `json:"arn"`
	CanonicalARN string   `json:"canonicalArn"`
	Username     string   `json:"username"`
	Groups       []string `json:"groups"`
	Status       int      `json:"status"`
	Detail       string   `json:"detail"`
}

// Audit returns every review line logged so far, oldest first. The server
// logs a review before answering it, so a returned Review is always there.
func (s *Server) Audit() ([]AuditRecord, error) {
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		return nil, fmt.Errorf("read server log: %w", err)
	}
	var out []AuditRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg string `json:"msg"`
			AuditRecord
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "review" {
			continue // text from cobra, or another message
		}
		out = append(out, line.AuditRecord)
	}
	return out, sc.Err()
}

// AuditFor finds the latest review line for tok by its logged hash.
func (s *Server) AuditFor(tok string) (AuditRecord, bool) {
	recs, err := s.Audit()
	if err != nil {
		return AuditRecord{}, false
	}
	h := TokenHash(tok)
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].TokenHash == h {
			return recs[i], true
		}
	}
	return AuditRecord{}, false
}

// TokenHash is how the server names a token in its log: the first 16 hex
// digits of its SHA-256 (internal/server's tokenHash).
func TokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:8])
}
