package tokencache

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/iamgate/iamgate/internal/token"
)

// MinRemaining is how much validity a cached token must have left to be
// handed out: kubectl keeps using a token until its expirationTimestamp, and
// the request carrying it still has to reach the API server and STS.
const MinRemaining = 60 * time.Second

// maxLifetime bounds a believable entry: STS honours a presigned
// GetCallerIdentity URL for token.MaxTokenAge, so an entry claiming more is
// corrupt (or was written under a wrong clock) and is not served.
const maxLifetime = token.MaxTokenAge

// Entry is one cached token: the token itself and the expiry promised for it
// (the ExecCredential around it is rebuilt per call, since its apiVersion
// depends on the caller's KUBERNETES_EXEC_INFO).
type Entry struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expiresAt"`
}

type tokenFile struct {
	Version int `json:"v"`
	Entry
}

// ReadToken returns the cached token for key if it is trusted, well formed
// and has more than MinRemaining left at now.
func (s Store) ReadToken(key string, now time.Time) (Entry, bool) {
	b, err := s.ReadFile(TokenFile(key))
	if err != nil {
		return Entry{}, false
	}
	var f tokenFile
	if json.Unmarshal(b, &f) != nil || f.Version != 1 || !strings.HasPrefix(f.Token, token.Prefix) {
		return Entry{}, false
	}
	left := f.Expires.Sub(now)
	if left <= MinRemaining || left > maxLifetime {
		return Entry{}, false
	}
	return f.Entry, true
}

// WriteToken stores e under key.
func (s Store) WriteToken(key string, e Entry) error {
	b, err := json.Marshal(tokenFile{Version: 1, Entry: e})
	if err != nil {
		return err
	}
	return s.WriteFile(TokenFile(key), b)
}
