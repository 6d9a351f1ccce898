package awsauth

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field names are matched ignoring ASCII case, and only plain ASCII names
// are read (fieldsIn). aws-iam-authenticator reads aws-auth through
// encoding/json, which matches field names with Unicode simple case
// folding: to it "uſerarn" (U+017F, long s) is userarn and "K" (U+212A,
// Kelvin sign) is k. Such an entry is refused here, and salvage reads its
// keys the way encoding/json does (jsonFoldKey), so that it still shadows
// the principal it names.

// isASCII reports whether s is plain ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsonFoldKey returns k lower-cased as encoding/json compares field names:
// each rune whose simple case folding orbit holds an ASCII letter becomes
// that letter, in lower case; other runes are kept, and match no field
// name.
func jsonFoldKey(k string) string {
	if isASCII(k) {
		return strings.ToLower(k)
	}
	var b strings.Builder
	for _, r := range k {
		b.WriteRune(foldRuneASCII(r))
	}
	return b.String()
}

// foldRuneASCII returns the smallest member of r's unicode.SimpleFold orbit
// (as encoding/json's foldRune does) lower-cased if that is ASCII, else r.
func foldRuneASCII(r rune) rune {
	low := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		low = min(low, f)
	}
	if low < utf8.RuneSelf {
		return unicode.ToLower(low)
	}
	return r
}
