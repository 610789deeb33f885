package awsrules

import (
	"maps"
)

// The rules of the custom domain's resource types (infra/domain.go). They
// live in their own table, merged into awsRules at init, so the domain's
// rules read in one place. The CloudFormation schemas of these types
// (cfn-lint src/cfnlint/data/schemas/providers/us_east_1/
// aws-certificatemanager-certificate.json, aws-apigatewayv2-domainname.json,
// aws-apigatewayv2-apimapping.json, aws-route53-recordset.json) carry no
// patterns or enums for them, so the rules come from the API references.

// Sources of the domain's rules.
const (
	srcRequestCert      = "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html"
	srcCertValidation   = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/acm_certificate_validation (calls no create API: waits for ISSUED)"
	srcDomainNames      = "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames.html"
	srcHTTPCustomDomain = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html"
	srcAPIMappings      = "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames-domainname-apimappings.html"
	srcRRSet            = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html"
	srcAliasTarget      = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html"
	srcAPIGWAlias       = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-api-gateway.html"
)

// acmDomainName is RequestCertificate's DomainName: 1-253 characters,
// labels of letters, digits and hyphens (not first or last), an optional
// leading "*." (the API's pattern uses a lookahead Go's regexp lacks; this
// is the same set).
var acmDomainName = str(length(1, 253), matches(`(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?`))

// aliasXorRecords: a record set has either an alias target or resource
// records and a TTL, never both.
func aliasXorRecords(v any) string {
	in, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	aliases, _ := in["aliases"].([]any)
	records, _ := in["records"].([]any)
	_, ttl := in["ttl"]
	switch {
	case len(aliases) > 0 && (len(records) > 0 || ttl):
		return "an alias record has no records or TTL"
	case len(aliases) == 0 && (len(records) == 0 || !ttl):
		return "a non-alias record needs records and a TTL"
	}
	return ""
}

// hostedZoneID is a Route 53 hosted zone ID (Z and up to 32 characters).
var hostedZoneID = str(length(1, 32), matches(`Z[A-Z0-9]+`))

var domainRules = map[string]typeRules{
	"aws:acm/certificate:Certificate": {
		rules: append([]rule{
			{"domainName", "certificate domain name: 1-253 characters, DNS labels, optional leading *.", srcRequestCert, acmDomainName},
			{"validationMethod", "validation method", srcRequestCert, oneOf("DNS", "EMAIL", "HTTP")},
			{"subjectAlternativeNames", "at most 100 subject alternative names", srcRequestCert, maxItems(100)},
			{"subjectAlternativeNames.*", "subject alternative name: as the domain name", srcRequestCert, acmDomainName},
		}, tagRules("", srcTagging)...),
	},
	"aws:acm/certificateValidation:CertificateValidation": {
		none: "sends nothing to AWS: it waits for the certificate (by ARN) to be issued, checking the validation FQDNs given",
	},
	"aws:apigatewayv2/domainName:DomainName": {
		rules: append([]rule{
			{"domainName", "custom domain name: a DNS name of at most 253 characters", srcDomainNames, acmDomainName},
			{"domainNameConfiguration.endpointType", "endpoint type (HTTP APIs: REGIONAL only)", srcHTTPCustomDomain, oneOf("REGIONAL")},
			{"domainNameConfiguration.securityPolicy", "TLS security policy (HTTP APIs: TLS_1_2 only)", srcHTTPCustomDomain, oneOf("TLS_1_2")},
			{"domainNameConfiguration.ipAddressType", "IP address type", srcDomainNames, oneOf("ipv4", "dualstack")},
			{"domainNameConfiguration.certificateArn", "certificate: an ACM certificate ARN", srcDomainNames,
				str(matches(`arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+`))},
		}, tagRules("", srcTagging)...),
	},
	"aws:apigatewayv2/apiMapping:ApiMapping": {
		rules: []rule{
			{"stage", "stage: $default or 1-128 letters, digits, - and _", srcAPIMappings, str(matches(`\$default|[A-Za-z0-9_-]{1,128}`))},
			{"apiMappingKey", "mapping key: path segments of letters, digits and ._-", srcAPIMappings, str(matches(`[A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*`))},
		},
	},
	"aws:route53/record:Record": {
		rules: []rule{
			{"name", "record name: at most 1024 characters", srcRRSet, str(length(1, 1024))},
			{"type", "record type", srcRRSet, oneOf("SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS", "TLSA", "SSHFP", "SVCB", "HTTPS")},
			{"ttl", "TTL 0..2147483647 seconds", srcRRSet, all(integer, between(0, 2147483647))},
			{"records.*", "record value: at most 4000 characters", srcRRSet, str(length(1, 4000))},
			{"zoneId", "hosted zone ID", srcRRSet, hostedZoneID},
			{"aliases", "one alias target", srcAliasTarget, maxItems(1)},
			{"aliases.*.zoneId", "alias target's hosted zone ID (API Gateway's regional zone)", srcAPIGWAlias, hostedZoneID},
			{"aliases.*.name", "alias target: a DNS name", srcAliasTarget, str(length(1, 1024), matches(`[A-Za-z0-9._-]+\.?`))},
			{"", "alias or records and TTL, not both", srcRRSet, aliasXorRecords},
		},
	},
}

// init merges the domain's rules into the table; a type in both would be
// a mistake, so it panics rather than let one table win silently.
func init() {
	for typ := range domainRules {
		if _, dup := awsRules[typ]; dup {
			panic("awsrules: " + typ + " has rules in table.go and table_domain.go")
		}
	}
	maps.Copy(awsRules, domainRules)
}
