package api

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestValidateKey(t *testing.T) {
	good := []string{"uploads/" + hex64 + ".jpg", "uploads/" + hex64 + ".png"}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v; want nil", k, err)
		}
	}
	bad := []string{
		"",
		"uploads/",
		"uploads/" + hex64,
		"uploads/" + hex64 + ".gif",
		"uploads/" + hex64 + ".JPG",
		"uploads/" + strings.ToUpper(hex64) + ".jpg",
		"uploads/" + hex64[:63] + ".jpg",
		"uploads/" + hex64 + "0.jpg",
		"/uploads/" + hex64 + ".jpg",
		"uploads/../" + hex64[:61] + ".jpg",
		"../uploads/" + hex64 + ".jpg",
		"uploads/" + hex64 + ".jpg/..",
		"other/" + hex64 + ".jpg",
		"uploads/" + hex64 + ".jpg\n",
		"uploads/" + hex64 + ".jpg" + strings.Repeat("x", 5000),
		"s3://bucket/uploads/" + hex64 + ".jpg",
	}
	for _, k := range bad {
		err := ValidateKey(k)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidKey || e.Status() != 400 {
			t.Errorf("ValidateKey(%q) = %v; want invalid_key (400)", k, err)
		}
	}
}

func TestParseQuery(t *testing.T) {
	defaults := Options{MaxLabels: 10, MinConfidence: 70}
	tests := []struct {
		query string
		want  Options
	}{
		{"", defaults},
		{"maxLabels=5&minConfidence=55.5", Options{MaxLabels: 5, MinConfidence: 55.5}},
		{"maxLabels=1000&minConfidence=0", Options{MaxLabels: 1000, MinConfidence: 0}},
		{"maxLabels=007&minConfidence=7e1", Options{MaxLabels: 7, MinConfidence: 70}},
		{"minConfidence=.5", Options{MaxLabels: 10, MinConfidence: 0.5}},
		{"minConfidence=50.", Options{MaxLabels: 10, MinConfidence: 50}},
		{"includeCategories=Animals and Pets,Vehicles&includeCategories=Food", Options{MaxLabels: 10, MinConfidence: 70,
			IncludeCategories: []string{"Animals and Pets", "Vehicles", "Food"}}},
		{"excludeLabels=Person,,%20Car%20", Options{MaxLabels: 10, MinConfidence: 70, ExcludeLabels: []string{"Person", "Car"}}},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		got, err := ParseQuery(q, defaults)
		if err != nil {
			t.Errorf("ParseQuery(%q) error %v", tt.query, err)
			continue
		}
		if got.MaxLabels != tt.want.MaxLabels || got.MinConfidence != tt.want.MinConfidence ||
			strings.Join(got.IncludeCategories, "|") != strings.Join(tt.want.IncludeCategories, "|") ||
			strings.Join(got.ExcludeLabels, "|") != strings.Join(tt.want.ExcludeLabels, "|") {
			t.Errorf("ParseQuery(%q) = %+v; want %+v", tt.query, got, tt.want)
		}
		// Query is ParseQuery's inverse.
		back, err := ParseQuery(got.Query(), Options{MaxLabels: 1})
		if err != nil || back.MaxLabels != got.MaxLabels || back.MinConfidence != got.MinConfidence ||
			len(back.IncludeCategories) != len(got.IncludeCategories) || len(back.ExcludeLabels) != len(got.ExcludeLabels) {
			t.Errorf("ParseQuery(%q).Query() round trip = %+v, %v; want %+v", tt.query, back, err, got)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	many := strings.TrimSuffix(strings.Repeat("a,", MaxFilterEntries+1), ",")
	tests := []struct{ query, param string }{
		{"maxLabels=0", "maxLabels"},
		{"maxLabels=-3", "maxLabels"},
		{"maxLabels=1001", "maxLabels"},
		{"maxLabels=abc", "maxLabels"},
		{"maxLabels=2.5", "maxLabels"},
		{"maxLabels=", "maxLabels"},
		{"maxLabels=1&maxLabels=2", "maxLabels"},
		{"minConfidence=-0.1", "minConfidence"},
		{"minConfidence=100.01", "minConfidence"},
		{"minConfidence=NaN", "minConfidence"},
		{"minConfidence=Inf", "minConfidence"},
		{"minConfidence=high", "minConfidence"},
		{"includeCategories=" + strings.Repeat("x", 51), "includeCategories"},
		{"includeCategories=" + url.QueryEscape("<script>"), "includeCategories"},
		{"includeCategories=" + many, "includeCategories"},
		{"excludeLabels=a%22b", "excludeLabels"},
		{"excludeLabels=" + url.QueryEscape("Person/Car"), "excludeLabels"},
		// Unknown or misspelled parameters are named, not ignored.
		{"maxlabels=1", "maxlabels"},
		{"maxLabels[]=1", "maxLabels[]"},
		{"maxLabels=3&colour=red", "colour"},
		{"=1", `""`},
		// Only plain decimal numbers.
		{"maxLabels=+3", "maxLabels"},
		{"maxLabels=%203", "maxLabels"},
		{"maxLabels=0x10", "maxLabels"},
		{"maxLabels=1_0", "maxLabels"},
		{"minConfidence=0x1p6", "minConfidence"},
		{"minConfidence=+50", "minConfidence"},
		{"minConfidence=5_0", "minConfidence"},
		{"minConfidence=infinity", "minConfidence"},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		_, err := ParseQuery(q, Options{MaxLabels: 10, MinConfidence: 70})
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidOption || !strings.HasPrefix(e.Message, tt.param+" ") {
			t.Errorf("ParseQuery(%q) = %v; want invalid_option naming %s", tt.query, err, tt.param)
		}
	}
}

func TestDefaultOptions(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	o, err := DefaultOptions(env(nil))
	if err != nil || o.MaxLabels != 10 || o.MinConfidence != 70 {
		t.Errorf("DefaultOptions(empty) = %+v, %v; want 10, 70", o, err)
	}
	o, err = DefaultOptions(env(map[string]string{"MAX_LABELS": "25", "MIN_CONFIDENCE": "80.5"}))
	if err != nil || o.MaxLabels != 25 || o.MinConfidence != 80.5 {
		t.Errorf("DefaultOptions(25, 80.5) = %+v, %v", o, err)
	}
	for _, m := range []map[string]string{{"MAX_LABELS": "0"}, {"MAX_LABELS": "x"}, {"MIN_CONFIDENCE": "101"}} {
		if _, err := DefaultOptions(env(m)); err == nil {
			t.Errorf("DefaultOptions(%v) = nil error; want error", m)
		}
	}
}

func TestLabelsRequestOptions(t *testing.T) {
	defaults := Options{MaxLabels: 10, MinConfidence: 70}
	o, err := LabelsRequest{Key: "k"}.Options(defaults)
	if err != nil || o.MaxLabels != 10 || o.MinConfidence != 70 {
		t.Errorf("Options(no options) = %+v, %v; want defaults", o, err)
	}
	req := NewLabelsRequest("k", Options{MaxLabels: 3, MinConfidence: 0, ExcludeLabels: []string{"Person"}})
	o, err = req.Options(defaults)
	if err != nil || o.MaxLabels != 3 || o.MinConfidence != 0 || len(o.ExcludeLabels) != 1 {
		t.Errorf("Options(3, 0, [Person]) = %+v, %v", o, err)
	}
	zero := 0
	if _, err := (LabelsRequest{Key: "k", MaxLabels: &zero}).Options(defaults); err == nil {
		t.Errorf("Options(maxLabels 0) = nil error; want invalid_option")
	}
	if _, err := (LabelsRequest{Key: "k", ExcludeLabels: []string{""}}).Options(defaults); err == nil {
		t.Errorf(`Options(excludeLabels [""]) = nil error; want invalid_option`)
	}
}

func TestStatusTable(t *testing.T) {
	for code, status := range statusOf {
		if got := CodeForStatus(status); Status(got) != status {
			t.Errorf("Status(CodeForStatus(%d)) = %d (code %s from %s)", status, Status(got), got, code)
		}
	}
	if got := Status("no such code"); got != 500 {
		t.Errorf(`Status("no such code") = %d; want 500`, got)
	}
	e := AsError(errors.New("secret detail"))
	if e.Code != CodeInternal || strings.Contains(e.Message, "secret") {
		t.Errorf("AsError(plain) = %+v; want internal with a generic message", e)
	}
}

func TestParseRawQuery(t *testing.T) {
	defaults := Options{MaxLabels: 10, MinConfidence: 70}
	o, err := ParseRawQuery("maxLabels=3&minConfidence=55.5", defaults)
	if err != nil || o.MaxLabels != 3 || o.MinConfidence != 55.5 {
		t.Errorf("ParseRawQuery(valid) = %+v, %v", o, err)
	}
	for _, raw := range []string{"maxLabels=%zz", "maxLabels=1;minConfidence=200", "excludeLabels=a%2"} {
		_, err := ParseRawQuery(raw, defaults)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidOption {
			t.Errorf("ParseRawQuery(%q) = %v; want invalid_option", raw, err)
		}
	}
}
