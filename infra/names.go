package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ShortHash returns n hex characters of the SHA-256 of parts joined by NUL:
// the same parts give the same characters on every run and machine. Names
// that had to be shortened or cleaned carry it to stay distinct, and the
// offline plan's made-up ids are derived from it so a plan is reproducible.
func ShortHash(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])[:n]
}
