package program_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"imagelabel/internal/plan"
)

// routeAuth returns the authorizationType each route key is declared with
// ("" when unset, which API Gateway takes as NONE).
func routeAuth(p *plan.Result) map[string]string {
	out := map[string]string{}
	for _, r := range p.Find("aws:apigatewayv2/route:Route") {
		a, _ := r.Inputs["authorizationType"].(string)
		out[r.Inputs["routeKey"].(string)] = a
	}
	return out
}

func TestAPIAuthIAM(t *testing.T) {
	open := model(t)
	for key, auth := range routeAuth(open) {
		if auth != "" {
			t.Errorf("default stack: route %q authorizationType = %q; want unset", key, auth)
		}
	}
	if _, ok := open.Outputs["apiAuth"]; ok {
		t.Errorf("default stack exports apiAuth")
	}

	p := model(t, "apiAuth=iam")
	want := map[string]string{
		"GET /healthz": "", "GET /getInfo": "", "GET /": "", "GET /assets/{proxy+}": "",
		"POST /upload": "AWS_IAM", "GET /labels/{proxy+}": "AWS_IAM",
	}
	got := routeAuth(p)
	for key, auth := range want {
		if got[key] != auth {
			t.Errorf("route %q authorizationType = %q; want %q", key, got[key], auth)
		}
	}
	if p.Outputs["apiAuth"] != "iam" {
		t.Errorf("output apiAuth = %v; want iam", p.Outputs["apiAuth"])
	}
	var pol struct {
		Statement []struct {
			Effect, Action string
			Resource       []string
		}
	}
	if err := json.Unmarshal([]byte(p.Outputs["callerPolicy"].(string)), &pol); err != nil {
		t.Fatalf("callerPolicy: %v", err)
	}
	api := one(t, p, "aws:apigatewayv2/api:Api", "api")
	exec := api.Outputs["executionArn"].(string)
	wantRes := []string{exec + "/*/POST/upload", exec + "/*/GET/labels/*"}
	if len(pol.Statement) != 1 || pol.Statement[0].Action != "execute-api:Invoke" || pol.Statement[0].Effect != "Allow" ||
		!slices.Equal(pol.Statement[0].Resource, wantRes) {
		t.Errorf("callerPolicy = %+v; want Allow execute-api:Invoke on %v", pol, wantRes)
	}
	env := containerEnv(t, p, "upload")
	if env["API_AUTH"] != "iam" {
		t.Errorf("upload's API_AUTH = %q; want iam (the page's notice)", env["API_AUTH"])
	}
	if _, ok := containerEnv(t, open, "upload")["API_AUTH"]; ok {
		t.Errorf("default stack sets API_AUTH")
	}
}

// containerEnv returns the environment of svc's container.
func containerEnv(t *testing.T, p *plan.Result, svc string) map[string]string {
	t.Helper()
	td := one(t, p, "aws:ecs/taskDefinition:TaskDefinition", svc)
	var defs []struct {
		Environment []struct{ Name, Value string }
	}
	if err := json.Unmarshal([]byte(td.Inputs["containerDefinitions"].(string)), &defs); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range defs[0].Environment {
		env[kv.Name] = kv.Value
	}
	return env
}

func TestDomainInHostedZone(t *testing.T) {
	p := model(t, "domainName=api.example.com", "domainZone=example.com")
	cert := one(t, p, "aws:acm/certificate:Certificate", "domain")
	if cert.Inputs["domainName"] != "api.example.com" || cert.Inputs["validationMethod"] != "DNS" {
		t.Errorf("certificate inputs = %v", cert.Inputs)
	}
	val := one(t, p, "aws:route53/record:Record", "domain-validation")
	opt := get(t, cert.Outputs, "domainValidationOptions.0").(map[string]any)
	if val.Inputs["name"] != opt["resourceRecordName"] || val.Inputs["type"] != "CNAME" ||
		get(t, val.Inputs, "records.0") != opt["resourceRecordValue"] {
		t.Errorf("validation record %v does not match the certificate's option %v", val.Inputs, opt)
	}
	wait := one(t, p, "aws:acm/certificateValidation:CertificateValidation", "domain")
	if wait.Inputs["certificateArn"] != arnOf(cert) || get(t, wait.Inputs, "validationRecordFqdns.0") != val.Outputs["fqdn"] {
		t.Errorf("certificate validation inputs = %v", wait.Inputs)
	}
	dn := one(t, p, "aws:apigatewayv2/domainName:DomainName", "domain")
	for path, want := range map[string]any{
		"domainNameConfiguration.certificateArn": arnOf(cert), "domainNameConfiguration.endpointType": "REGIONAL",
		"domainNameConfiguration.securityPolicy": "TLS_1_2", "domainNameConfiguration.ipAddressType": "dualstack",
	} {
		if got := get(t, dn.Inputs, path); got != want {
			t.Errorf("domain name %s = %v; want %v", path, got, want)
		}
	}
	api := one(t, p, "aws:apigatewayv2/api:Api", "api")
	m := one(t, p, "aws:apigatewayv2/apiMapping:ApiMapping", "domain")
	if m.Inputs["apiId"] != idOf(api) || m.Inputs["domainName"] != "api.example.com" || m.Inputs["stage"] != "$default" {
		t.Errorf("api mapping inputs = %v", m.Inputs)
	}
	target := get(t, dn.Outputs, "domainNameConfiguration.targetDomainName")
	for _, typ := range []string{"A", "AAAA"} {
		r := one(t, p, "aws:route53/record:Record", "domain-"+typ)
		if r.Inputs["type"] != typ || r.Inputs["name"] != "api.example.com" || get(t, r.Inputs, "aliases.0.name") != target ||
			get(t, r.Inputs, "aliases.0.zoneId") != get(t, dn.Outputs, "domainNameConfiguration.hostedZoneId") {
			t.Errorf("%s record inputs = %v", typ, r.Inputs)
		}
		if r.Inputs["zoneId"] != val.Inputs["zoneId"] || !strings.HasPrefix(r.Inputs["zoneId"].(string), "Z") {
			t.Errorf("%s record zone %v; want the hosted zone %v", typ, r.Inputs["zoneId"], val.Inputs["zoneId"])
		}
	}
	if p.Outputs["apiUrl"] != "https://api.example.com/" || p.Outputs["apiDomainTarget"] != target {
		t.Errorf("outputs apiUrl=%v apiDomainTarget=%v", p.Outputs["apiUrl"], p.Outputs["apiDomainTarget"])
	}
	if _, ok := p.Outputs["domainDnsRecord"]; ok {
		t.Errorf("domainDnsRecord exported although the program creates the records")
	}
	if _, ok := api.Inputs["disableExecuteApiEndpoint"]; ok {
		t.Errorf("execute-api endpoint disabled by default")
	}
}

func TestDomainWithCertificate(t *testing.T) {
	const cert = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	p := model(t, "domainName=images.example.org", "domainCertificateArn="+cert, "disableDefaultEndpoint=true")
	for _, typ := range []string{"aws:acm/certificate:Certificate", "aws:route53/record:Record", "aws:acm/certificateValidation:CertificateValidation"} {
		if n := len(p.Find(typ)); n != 0 {
			t.Errorf("%d %s declared with a certificate ARN; want none", n, typ)
		}
	}
	dn := one(t, p, "aws:apigatewayv2/domainName:DomainName", "domain")
	if got := get(t, dn.Inputs, "domainNameConfiguration.certificateArn"); got != cert {
		t.Errorf("domain name certificate = %v; want %s", got, cert)
	}
	if api := one(t, p, "aws:apigatewayv2/api:Api", "api"); api.Inputs["disableExecuteApiEndpoint"] != true {
		t.Errorf("disableExecuteApiEndpoint = %v; want true", api.Inputs["disableExecuteApiEndpoint"])
	}
	target := get(t, dn.Outputs, "domainNameConfiguration.targetDomainName").(string)
	rec, _ := p.Outputs["domainDnsRecord"].(string)
	if !strings.HasPrefix(rec, "images.example.org CNAME "+target) {
		t.Errorf("domainDnsRecord = %q; want images.example.org CNAME %s ...", rec, target)
	}
	if p.Outputs["apiUrl"] != "https://images.example.org/" {
		t.Errorf("apiUrl = %v", p.Outputs["apiUrl"])
	}
}

// TestDomainRefusedAtPreview: what would fail mid-deploy is refused before
// anything is declared, naming the key.
func TestDomainRefusedAtPreview(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"domainName=api.example.com", "domainCertificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/abc"},
			"imagelabel:domainCertificateArn: the certificate is in eu-west-1 but the stack is in us-east-1"},
		{[]string{"domainName=api.example.net", "domainZone=example.net"}, "imagelabel:domainZone: no public Route 53 hosted zone \"example.net\""},
		{[]string{"domainName=api.example.com", "domainZone=example.net"}, "imagelabel:domainZone: \"example.net\" is not api.example.com or a parent of it"},
		{[]string{"domainName=api.example.com:443", "domainZone=example.com"}, "imagelabel:domainName:"},
	} {
		cfg := baseConfig()
		for _, kv := range tc.set {
			k, v, _ := strings.Cut(kv, "=")
			cfg["imagelabel:"+k] = v
		}
		_, err := plan.Model("test", cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("plan.Model(%v) = %v; want an error containing %q", tc.set, err, tc.want)
		}
	}
}
