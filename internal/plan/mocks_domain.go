package plan

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"imagelabel/infra"
)

// MockHostedZone is the one public Route 53 hosted zone of the mock
// account (example.com is reserved for documentation, RFC 2606): a
// domainZone of another name is not found, as in an account without it.
const MockHostedZone = "example.com"

// mockZone answers route53.LookupZone: MockHostedZone when asked for it by
// name (public), else the provider's error for a zone that does not exist.
func mockZone(args resource.PropertyMap) (resource.PropertyMap, error) {
	if !args["name"].IsString() {
		return nil, fmt.Errorf("mock: getZone without a name (the program looks zones up by name)")
	}
	name := strings.TrimSuffix(args["name"].StringValue(), ".")
	private := args["privateZone"]
	if name != MockHostedZone || (private.IsBool() && private.BoolValue()) {
		return nil, fmt.Errorf("no matching Route 53 Hosted Zone found")
	}
	id := "Z" + strings.ToUpper(infra.ShortHash(20, "zone", name))
	return resource.NewPropertyMapFromMap(map[string]any{
		"id": id, "zoneId": id, "name": name, "privateZone": false,
		"arn":         "arn:aws:route53:::hostedzone/" + id,
		"nameServers": []any{"ns-1.awsdns-01.org", "ns-2.awsdns-02.com"},
	}), nil
}

// domainOutputs sets the outputs of the certificate, its validation, the
// API's custom domain name and mapping, and Route 53 records; false for
// another type.
func domainOutputs(s *mockOutputs) bool {
	r, a := s.region, s.account
	out := s.out
	switch s.typ {
	case "aws:acm/certificate:Certificate":
		h := s.h(32)
		arn := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s-%s-%s-%s-%s", r, a, h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
		name := s.str("domainName")
		out["id"], out["arn"], out["status"] = arn, arn, "PENDING_VALIDATION"
		out["domainValidationOptions"] = []any{map[string]any{
			"domainName":          name,
			"resourceRecordName":  "_" + s.h(32)[:32] + "." + name + ".",
			"resourceRecordType":  "CNAME",
			"resourceRecordValue": "_" + infra.ShortHash(32, s.typ, s.name, "value") + ".mhbtsbpdnt.acm-validations.aws.",
		}}
	case "aws:acm/certificateValidation:CertificateValidation":
		out["id"] = s.str("certificateArn")
	case "aws:apigatewayv2/domainName:DomainName":
		name := s.str("domainName")
		out["id"] = name
		out["arn"] = fmt.Sprintf("arn:aws:apigateway:%s::/domainnames/%s", r, name)
		out["apiMappingSelectionExpression"] = "$request.basepath"
		cfg := map[string]any{}
		if v, ok := s.in["domainNameConfiguration"]; ok && v.IsObject() {
			cfg = plainMap(v.ObjectValue())
		}
		cfg["targetDomainName"] = fmt.Sprintf("d-%s.execute-api.%s.amazonaws.com", s.h(10), r)
		cfg["hostedZoneId"] = "Z" + strings.ToUpper(infra.ShortHash(13, "apigateway", r))
		out["domainNameConfiguration"] = cfg
	case "aws:apigatewayv2/apiMapping:ApiMapping":
		out["id"] = s.h(6)
	case "aws:route53/record:Record":
		name := strings.TrimSuffix(s.str("name"), ".")
		out["id"] = s.str("zoneId") + "_" + name + "_" + s.str("type")
		out["fqdn"] = name
	default:
		return false
	}
	return true
}
