package api

import (
	"encoding/hex"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// keyShape is an oracle for ValidateKey written without the regexp:
// "uploads/", 64 lowercase hex digits, ".jpg" or ".png", nothing else.
func keyShape(k string) bool {
	rest, ok := strings.CutPrefix(k, KeyPrefix)
	if !ok || len(rest) != 64+4 {
		return false
	}
	if ext := rest[64:]; ext != ".jpg" && ext != ".png" {
		return false
	}
	for _, c := range []byte(rest[:64]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// FuzzValidateKey: ValidateKey accepts exactly the keys of the documented
// shape; an accepted key names a SHA-256 that re-encodes to the same key
// (so no two spellings reach one object), is never longer than
// MaxKeyLength, and cannot leave the uploads/ prefix; a refused key is an
// invalid_key error (400).
func FuzzValidateKey(f *testing.F) {
	for _, k := range []string{
		"uploads/" + hex64 + ".jpg", "uploads/" + hex64 + ".png", "", "uploads/",
		"uploads/" + strings.ToUpper(hex64) + ".jpg", "uploads/" + hex64 + ".jpg\n",
		"uploads/../" + hex64[:61] + ".jpg", "uploads/" + hex64 + ".jpg/..", "other/" + hex64 + ".png",
		"uploads/" + hex64[:63] + "\u00e9.jpg", "uploads/" + hex64 + ".jpeg",
	} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)
		if got, want := err == nil, keyShape(key); got != want {
			t.Fatalf("ValidateKey(%q) = %v; the documented shape says accepted=%v", key, err, want)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidKey || e.Status() != 400 {
				t.Fatalf("ValidateKey(%q) = %v; want an invalid_key *Error (400)", key, err)
			}
			return
		}
		if len(key) > MaxKeyLength || strings.Contains(key, "..") || strings.Count(key, "/") != 1 {
			t.Fatalf("ValidateKey accepted %q: too long, or a path that could leave uploads/", key)
		}
		sum, herr := hex.DecodeString(key[len(KeyPrefix) : len(KeyPrefix)+64])
		if herr != nil || len(sum) != 32 || KeyPrefix+hex.EncodeToString(sum)+key[len(key)-4:] != key {
			t.Fatalf("ValidateKey accepted %q, which does not round-trip through its SHA-256", key)
		}
	})
}

// FuzzParseQuery: options ParseQuery accepts are valid and survive the
// round trip through Query (what upload sends on to rekog keeps its
// meaning); refusals are invalid_option errors.
func FuzzParseQuery(f *testing.F) {
	for _, q := range []string{
		"", "maxLabels=5&minConfidence=55.5", "maxLabels=1000&minConfidence=0", "maxLabels=0", "minConfidence=NaN",
		"includeCategories=Animals and Pets,Vehicles&includeCategories=Food", "excludeLabels=Person,,%20Car%20",
		"maxLabels=1&maxLabels=2", "minConfidence=1e2", "excludeLabels=%C3%A9t%C3%A9", "maxLabels=+7",
	} {
		f.Add(q)
	}
	defaults := Options{MaxLabels: DefaultMaxLabels, MinConfidence: DefaultMinConf}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // a malformed query string is the HTTP layer's to refuse
		}
		o, err := ParseQuery(q, defaults)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidOption {
				t.Fatalf("ParseQuery(%q) = %v; want an invalid_option *Error", raw, err)
			}
			return
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("ParseQuery(%q) = %+v, which Validate refuses: %v", raw, o, err)
		}
		back, err := ParseQuery(o.Query(), defaults)
		if err != nil || !reflect.DeepEqual(back, o) {
			t.Fatalf("ParseQuery(%q) = %+v; through Query() it becomes %+v, %v", raw, o, back, err)
		}
	})
}
