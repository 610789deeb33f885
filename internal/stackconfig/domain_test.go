package stackconfig

import (
	"strings"
	"testing"
)

const testCert = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

func TestDomainConfig(t *testing.T) {
	for _, tc := range []struct {
		kv      map[string]string
		wantKey string // "" = accepted
	}{
		{map[string]string{}, ""},
		{map[string]string{"apiAuth": "iam"}, ""},
		{map[string]string{"apiAuth": "IAM"}, "apiAuth"},
		{map[string]string{"apiAuth": "jwt"}, "apiAuth"},
		{map[string]string{"domainName": "api.example.com", "domainZone": "example.com"}, ""},
		{map[string]string{"domainName": "example.com", "domainZone": "example.com."}, ""}, // the apex; a trailing dot on the zone
		{map[string]string{"domainName": "api.example.com", "domainCertificateArn": testCert, "disableDefaultEndpoint": "true"}, ""},
		{map[string]string{"domainName": "api.example.com"}, "domainName"},
		{map[string]string{"domainName": "api.example.com", "domainZone": "example.com", "domainCertificateArn": testCert}, "domainZone"},
		{map[string]string{"domainName": "API.example.com", "domainZone": "example.com"}, "domainName"},
		{map[string]string{"domainName": "api..example.com", "domainZone": "example.com"}, "domainName"},
		{map[string]string{"domainName": "-api.example.com", "domainZone": "example.com"}, "domainName"},
		{map[string]string{"domainName": "api_1.example.com", "domainZone": "example.com"}, "domainName"},
		{map[string]string{"domainName": "api.example.com.", "domainZone": "example.com"}, "domainName"},
		{map[string]string{"domainName": "10.0.0.1", "domainCertificateArn": testCert}, "domainName"},
		{map[string]string{"domainName": strings.Repeat("a", 64) + ".example.com", "domainZone": "example.com"}, "domainName"},
		{map[string]string{"domainName": "api.example.com", "domainZone": "example.org"}, "domainZone"},
		{map[string]string{"domainName": "api.example.com", "domainZone": "le.com"}, "domainZone"}, // a suffix, not a parent
		{map[string]string{"domainName": "api.example.com", "domainZone": "api.example.com.uk"}, "domainZone"},
		{map[string]string{"domainName": "api.example.com", "domainCertificateArn": "arn:aws:iam::123456789012:server-certificate/x"}, "domainCertificateArn"},
		{map[string]string{"domainZone": "example.com"}, "domainZone"},
		{map[string]string{"domainCertificateArn": testCert}, "domainCertificateArn"},
		{map[string]string{"disableDefaultEndpoint": "true"}, "disableDefaultEndpoint"},
	} {
		c, err := Load(getter(tc.kv))
		switch {
		case tc.wantKey == "" && err != nil:
			t.Errorf("Load(%v) = %v; want no error", tc.kv, err)
		case tc.wantKey != "" && (err == nil || !strings.Contains(err.Error(), Namespace+":"+tc.wantKey+":")):
			t.Errorf("Load(%v) = %v; want an error naming %s:%s", tc.kv, err, Namespace, tc.wantKey)
		case tc.wantKey == "" && tc.kv["domainZone"] != "" && c.DomainZone != strings.TrimSuffix(tc.kv["domainZone"], "."):
			t.Errorf("Load(%v).DomainZone = %q", tc.kv, c.DomainZone)
		}
	}
}

func TestCertificateRegion(t *testing.T) {
	for arn, want := range map[string]string{
		testCert: "us-east-1",
		"arn:aws:acm:eu-west-1:123456789012:certificate/abc": "eu-west-1",
		"arn:aws:acm:eu-west-1:123456789012:certificate/":    "",
		"arn:aws:acm:eu-west-1:1234:certificate/abc":         "",
	} {
		if got, ok := CertificateRegion(arn); got != want || ok != (want != "") {
			t.Errorf("CertificateRegion(%q) = %q, %v; want %q", arn, got, ok, want)
		}
	}
}
