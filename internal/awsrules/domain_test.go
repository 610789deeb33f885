package awsrules

import (
	"strings"
	"testing"
)

// TestDomainRulesRejectBadValues shows each rule of the custom domain's
// types rejecting a value AWS refuses, and accepting what the program sends.
func TestDomainRulesRejectBadValues(t *testing.T) {
	const (
		zone   = "Z0123456789ABCDEFGHIJ"
		target = "d-abc123.execute-api.us-east-1.amazonaws.com"
		cert   = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	)
	alias := []any{map[string]any{"name": target, "zoneId": "Z1UJRXOUMOOFQ8", "evaluateTargetHealth": false}}
	dnCfg := func(policy, endpoint string) map[string]any {
		return map[string]any{"domainName": "api.example.com", "domainNameConfiguration": map[string]any{
			"certificateArn": cert, "endpointType": endpoint, "securityPolicy": policy, "ipAddressType": "dualstack"}}
	}
	cases := []struct {
		kind, typ string
		bad, good map[string]any
		wantPath  string
	}{
		{"certificate domain with a trailing dot", "aws:acm/certificate:Certificate",
			map[string]any{"domainName": "api.example.com.", "validationMethod": "DNS"},
			map[string]any{"domainName": "api.example.com", "validationMethod": "DNS"}, "domainName"},
		{"validation method in lowercase", "aws:acm/certificate:Certificate",
			map[string]any{"domainName": "api.example.com", "validationMethod": "dns"},
			map[string]any{"domainName": "api.example.com", "validationMethod": "DNS"}, "validationMethod"},
		{"TLS 1.0 on an HTTP API domain", "aws:apigatewayv2/domainName:DomainName",
			dnCfg("TLS_1_0", "REGIONAL"), dnCfg("TLS_1_2", "REGIONAL"), "domainNameConfiguration.securityPolicy"},
		{"edge-optimized HTTP API domain", "aws:apigatewayv2/domainName:DomainName",
			dnCfg("TLS_1_2", "EDGE"), dnCfg("TLS_1_2", "REGIONAL"), "domainNameConfiguration.endpointType"},
		{"mapping to a stage name with a space", "aws:apigatewayv2/apiMapping:ApiMapping",
			map[string]any{"stage": "my stage", "apiId": "a1", "domainName": "api.example.com"},
			map[string]any{"stage": "$default", "apiId": "a1", "domainName": "api.example.com"}, "stage"},
		{"alias record with a TTL", "aws:route53/record:Record",
			map[string]any{"name": "api.example.com", "type": "A", "zoneId": zone, "aliases": alias, "ttl": 300.0},
			map[string]any{"name": "api.example.com", "type": "A", "zoneId": zone, "aliases": alias}, ""},
		{"record type in lowercase", "aws:route53/record:Record",
			map[string]any{"name": "api.example.com", "type": "aaaa", "zoneId": zone, "aliases": alias},
			map[string]any{"name": "api.example.com", "type": "AAAA", "zoneId": zone, "aliases": alias}, "type"},
		{"validation record without a TTL", "aws:route53/record:Record",
			map[string]any{"name": "_x.api.example.com.", "type": "CNAME", "zoneId": zone, "records": []any{"_y.acm-validations.aws."}},
			map[string]any{"name": "_x.api.example.com.", "type": "CNAME", "zoneId": zone, "records": []any{"_y.acm-validations.aws."}, "ttl": 300.0}, ""},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			vs, unreg := checkPlan(planOf(c.typ, "domain", c.bad), awsRules, nil)
			if len(unreg) > 0 {
				t.Fatalf("type not registered: %v", unreg)
			}
			found := false
			for _, v := range vs {
				found = found || v.Path == c.wantPath || (c.wantPath == "" && strings.Contains(v.Rule, "alias"))
			}
			if !found {
				t.Errorf("checkPlan(%v) = %v; want a violation at %q", c.bad, vs, c.wantPath)
			}
			if good, _ := checkPlan(planOf(c.typ, "domain", c.good), awsRules, nil); len(good) > 0 {
				t.Errorf("checkPlan(%v) = %v; want none", c.good, good)
			}
		})
	}
}
