package awsrules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"imagelabel/internal/plan"
)

// root is the repository root, where the stack files are.
const root = "../.."

// awsRulesVariations are the stack configurations the constraint check runs
// on: the dev stack as committed, and the knobs that change what is
// declared or what names and numbers are sent.
var awsRulesVariations = []struct {
	name  string
	stack string
	set   map[string]string // short keys (imagelabel namespace) over Pulumi.dev.yaml
}{
	{"dev", "dev", nil},
	{"five AZs (all the mock account's VPC-link zones)", "dev", map[string]string{"azCount": "5"}},
	{"x86_64", "dev", map[string]string{"cpuArchitecture": "x86_64"}},
	{"large and autoscaled", "dev", map[string]string{
		"uploadCpu": "4096", "uploadMemory": "30720", "rekogCpu": "16384", "rekogMemory": "122880",
		"desiredCount": "3", "maxCount": "100", "logRetentionDays": "3653", "imageRetentionDays": "36500",
		"apiThrottleRate": "10000", "apiThrottleBurst": "5000", "containerInsights": "true",
	}},
	{"another stack", "prod-eu_1", map[string]string{"azCount": "3", "desiredCount": "2", "maxCount": "4"}},
	// Pulumi stack names may contain letters, digits, -, _ and '.'
	// (https://www.pulumi.com/docs/iac/concepts/stacks/); names derived
	// from the stack must still be valid where '.' is not.
	{"stack name with a period", "team.prod", nil},
	// The egress modes, Spot and the budget each declare resources the
	// default does not (NAT instance, EIP association, interface
	// endpoints, capacity provider strategy, the budget).
	{"NAT instance, three AZs", "dev", map[string]string{"natMode": "instance", "azCount": "3"}},
	{"endpoints, three AZs", "dev", map[string]string{"natMode": "endpoints", "azCount": "3"}},
	{"spot on x86_64 with an on-demand base", "dev", map[string]string{"spot": "true", "cpuArchitecture": "x86_64", "spotOnDemandBase": "1", "desiredCount": "2", "maxCount": "4"}},
	{"spot on arm64", "dev", map[string]string{"spot": "true"}},
	{"budget", "dev", map[string]string{"monthlyBudgetUSD": "25", "budgetEmail": "ops@example.com"}},
	// Signed requests and the custom domain (certificate, domain name,
	// mapping and records; or the user's certificate).
	{"apiAuth iam", "dev", map[string]string{"apiAuth": "iam"}},
	{"domain in a hosted zone", "dev", map[string]string{"domainName": "api.example.com", "domainZone": "example.com", "apiAuth": "iam"}},
	{"domain with a certificate ARN, default endpoint off", "dev", map[string]string{
		"domainName": "images.example.org", "disableDefaultEndpoint": "true",
		"domainCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
	}},
}

// TestAWSInputRules runs the program under mocks on each variation and
// checks every declared resource against AWS's documented input rules. A
// resource type without registered rules fails the test, so a resource
// added later is checked too.
func TestAWSInputRules(t *testing.T) {
	for _, v := range awsRulesVariations {
		t.Run(v.name, func(t *testing.T) {
			cfg, err := plan.ReadStackConfig(root, "dev")
			if err != nil {
				t.Fatal(err)
			}
			for k, val := range v.set {
				cfg[plan.Project+":"+k] = val
			}
			p, err := plan.Model(v.stack, cfg)
			if err != nil {
				t.Fatalf("plan.Model(%s, %v): %v", v.stack, v.set, err)
			}
			vs, unregistered := checkPlan(p, awsRules, awsPlanRules)
			for _, u := range unregistered {
				t.Errorf("resource type %s has no AWS input rules: add an entry to awsRules in internal/awsrules/table.go (its rules with sources, or none: \"<reason>\")", u)
			}
			for _, x := range vs {
				t.Errorf("%s", x)
			}
			if checked := countChecked(p); checked < 30 {
				t.Errorf("only %d resources checked; the plan looks incomplete", checked)
			}
		})
	}
}

func countChecked(p *plan.Result) int {
	n := 0
	for _, r := range p.Resources {
		if !exemptType(r) {
			n++
		}
	}
	return n
}

// planOf builds a one-resource plan.
func planOf(typ, name string, inputs map[string]any) *plan.Result {
	return &plan.Result{Resources: []*plan.Resource{{Type: typ, Name: name, Custom: true, Inputs: inputs}}}
}

func containerDefs(overrides string) string {
	return `[{"name":"upload","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/upload@sha256:abc",` +
		`"portMappings":[{"name":"upload","containerPort":8080,"hostPort":8080,"protocol":"tcp","appProtocol":"http"}],` +
		`"healthCheck":{"command":["CMD","/upload","-healthcheck"],"interval":15,"timeout":5,"retries":3,"startPeriod":10},` +
		`"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/imagelabel/dev/upload","awslogs-region":"us-east-1","awslogs-stream-prefix":"upload"}}` +
		overrides + `}]`
}

func policy(n int) string {
	// A statement whose Resource pads the document to about n characters.
	pad := strings.Repeat("x", max(n-120, 1))
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/` + pad + `"}]}`
}

const (
	arSGRule   = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	arSGroup   = "aws:ec2/securityGroup:SecurityGroup"
	arTaskDef  = "aws:ecs/taskDefinition:TaskDefinition"
	arService  = "aws:ecs/service:Service"
	arRole     = "aws:iam/role:Role"
	arRolePol  = "aws:iam/rolePolicy:RolePolicy"
	arLogGroup = "aws:cloudwatch/logGroup:LogGroup"
)

// TestAWSRulesRejectBadValues shows each kind of rule rejecting a bad value
// with a message naming the resource, the property, the rule and its
// source, and accepting the corrected value.
func TestAWSRulesRejectBadValues(t *testing.T) {
	td := func(defs string, extra map[string]any) map[string]any {
		in := map[string]any{"family": "imagelabel-dev-upload", "cpu": "256", "memory": "512", "networkMode": "awsvpc",
			"requiresCompatibilities": []any{"FARGATE"}, "containerDefinitions": defs}
		for k, v := range extra {
			in[k] = v
		}
		return in
	}
	cases := []struct {
		kind      string
		typ, name string
		bad, good map[string]any
		wantPath  string
		wantRule  string // substring of the rule's name
	}{
		{"charset (defect 1)", arSGRule, "sg-vpclink-to-upload",
			map[string]any{"description": "VPC link to upload's port", "ipProtocol": "tcp"},
			map[string]any{"description": "VPC link to the upload port", "ipProtocol": "tcp"},
			"description", "security group rule description"},
		{"'&' only where every reference allows it", arSGRule, "r",
			map[string]any{"description": "S3 & ECR"}, map[string]any{"description": "S3 and ECR"},
			"description", "security group rule description"},
		{"reserved prefix of an auto-name", arSGroup, "sg-upload",
			map[string]any{"description": "upload tasks"},
			map[string]any{"description": "upload tasks", "namePrefix": "upload-"},
			"name", "not starting with sg-"},
		{"length of an auto-name", arRole, strings.Repeat("r", 60),
			map[string]any{}, map[string]any{"name": strings.Repeat("r", 64)},
			"name", "role name"},
		{"pattern", "aws:ecr/repository:Repository", "Upload",
			map[string]any{}, map[string]any{"name": "upload"},
			"name", "repository name"},
		{"enum", arLogGroup, "logs",
			map[string]any{"name": "/imagelabel/dev/upload", "retentionInDays": 8.0},
			map[string]any{"name": "/imagelabel/dev/upload", "retentionInDays": 7.0},
			"retentionInDays", "retention"},
		{"log group name pattern", arLogGroup, "logs",
			map[string]any{"name": "/imagelabel/dev stack/upload"}, map[string]any{"name": "/imagelabel/dev-stack/upload"},
			"name", "log group name"},
		{"numeric range inside a JSON document", arTaskDef, "upload",
			td(containerDefs(`,"stopTimeout":300`), nil), td(containerDefs(`,"stopTimeout":30`), nil),
			"containerDefinitions[0].stopTimeout", "stopTimeout"},
		{"nested name inside a JSON document", arTaskDef, "upload",
			td(strings.Replace(containerDefs(""), `"name":"upload","containerPort"`, `"name":"Upload","containerPort"`, 1), nil),
			td(containerDefs(""), nil),
			"containerDefinitions[0].portMappings[0].name", "port mapping name"},
		{"log option inside a JSON document", arTaskDef, "upload",
			td(strings.Replace(containerDefs(""), `"awslogs-stream-prefix":"upload"`, `"awslogs-stream-prefix":"up:load"`, 1), nil),
			td(containerDefs(""), nil),
			"containerDefinitions[0].logConfiguration.options.awslogs-stream-prefix", "awslogs-stream-prefix"},
		{"JSON validity", arTaskDef, "upload",
			td(`[{"name":"upload",`, nil), td(containerDefs(""), nil),
			"containerDefinitions", "container definitions"},
		{"cross-field: Fargate size", arTaskDef, "upload",
			td(containerDefs(""), map[string]any{"memory": "4096"}), td(containerDefs(""), map[string]any{"memory": "2048"}),
			"(resource)", "Fargate cpu/memory"},
		{"family pattern", arTaskDef, "upload",
			td(containerDefs(""), map[string]any{"family": "imagelabel-team.prod-upload"}), td(containerDefs(""), nil),
			"family", "family"},
		{"policy size", arRole, "upload-task",
			map[string]any{"name": "upload-task", "assumeRolePolicy": policy(2100)},
			map[string]any{"name": "upload-task", "assumeRolePolicy": policy(2000)},
			"assumeRolePolicy", "trust policy"},
		{"policy validity", arRolePol, "upload-task",
			map[string]any{"name": "p", "policy": `{"Statement":[]}`},
			map[string]any{"name": "p", "policy": policy(200)},
			"policy", "inline policy"},
		{"tag key", "aws:ec2/vpc:Vpc", "net",
			map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{"aws:owner": "x"}},
			map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{"owner": "x"}},
			"tags.(key aws:owner)", "tag key"},
		{"CIDR", "aws:ec2/subnet:Subnet", "net-private-0",
			map[string]any{"cidrBlock": "10.0.128.1/24"}, map[string]any{"cidrBlock": "10.0.128.0/24"},
			"cidrBlock", "subnet IPv4 CIDR"},
		{"cross-field: ports", arSGRule, "r",
			map[string]any{"ipProtocol": "tcp", "fromPort": 9090.0, "toPort": 8080.0},
			map[string]any{"ipProtocol": "tcp", "fromPort": 8080.0, "toPort": 9090.0},
			"(resource)", "fromPort <= toPort"},
		{"route key", "aws:apigatewayv2/route:Route", "api-get-labels",
			map[string]any{"routeKey": "GET /labels/{proxy+}/x"}, map[string]any{"routeKey": "GET /labels/{proxy+}"},
			"routeKey", "route key"},
		{"access log format", "aws:apigatewayv2/stage:Stage", "api",
			map[string]any{"name": "$default", "accessLogSettings": map[string]any{"format": `{"ip":"$context.identity.sourceIp"}`}},
			map[string]any{"name": "$default", "accessLogSettings": map[string]any{"format": `{"requestId":"$context.requestId"}`}},
			"accessLogSettings.format", "access log format"},
		{"parameter mapping key", "aws:apigatewayv2/integration:Integration", "api",
			map[string]any{"requestParameters": map[string]any{"overwrite:header.Connection": "x"}},
			map[string]any{"requestParameters": map[string]any{"overwrite:header.X-Request-Id": "$context.requestId"}},
			"requestParameters.(key overwrite:header.Connection)", "parameter mapping key"},
		{"S3 naming rules on the lowercased auto-name", "aws:s3/bucketV2:BucketV2", "Images..Bucket",
			map[string]any{}, map[string]any{"bucket": "images-bucket"},
			"bucket", "bucket name"},
		{"list size", arService, "upload",
			map[string]any{"name": "upload", "networkConfiguration": map[string]any{"securityGroups": []any{"a", "b", "c", "d", "e", "f"}}},
			map[string]any{"name": "upload", "networkConfiguration": map[string]any{"securityGroups": []any{"a"}}},
			"networkConfiguration.securityGroups", "security groups"},
		{"Service Connect discovery name", arService, "rekog",
			map[string]any{"name": "rekog", "serviceConnectConfiguration": map[string]any{"services": []any{map[string]any{"discoveryName": "-rekog"}}}},
			map[string]any{"name": "rekog", "serviceConnectConfiguration": map[string]any{"services": []any{map[string]any{"discoveryName": "rekog"}}}},
			"serviceConnectConfiguration.services[0].discoveryName", "discovery name"},
		{"Cloud Map service name", "aws:servicediscovery/service:Service", "api",
			map[string]any{"name": "up load"}, map[string]any{"name": "upload"},
			"name", "Cloud Map service name"},
		{"namespace name", "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", "api",
			map[string]any{"name": "api." + strings.Repeat("a", 64) + ".internal"}, map[string]any{"name": "api.imagelabel.internal"},
			"name", "private DNS namespace name"},
		{"budget name", "aws:budgets/budget:Budget", "budget",
			map[string]any{"name": "imagelabel:dev", "budgetType": "COST"}, map[string]any{"name": "imagelabel-dev", "budgetType": "COST"},
			"name", "budget name"},
		{"instance metadata", "aws:ec2/instance:Instance", "nat",
			map[string]any{"instanceType": "t4g.nano", "metadataOptions": map[string]any{"httpTokens": "mandatory"}},
			map[string]any{"instanceType": "t4g.nano", "metadataOptions": map[string]any{"httpTokens": "required"}},
			"metadataOptions.httpTokens", "IMDS tokens"},
		{"capacity provider strategy", "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "cluster",
			map[string]any{"capacityProviders": []any{"FARGATE_SPOT"}, "defaultCapacityProviderStrategies": []any{map[string]any{"capacityProvider": "FARGATE_SPOT", "weight": 1001.0}}},
			map[string]any{"capacityProviders": []any{"FARGATE_SPOT"}, "defaultCapacityProviderStrategies": []any{map[string]any{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}}},
			"defaultCapacityProviderStrategies[0].weight", "strategy weight"},
		{"endpoint type", "aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3",
			map[string]any{"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "gateway"},
			map[string]any{"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway"},
			"vpcEndpointType", "endpoint type"},
		{"alarm period", "aws:cloudwatch/metricAlarm:MetricAlarm", "nat-recover",
			map[string]any{"name": "nat-recover", "period": 90.0}, map[string]any{"name": "nat-recover", "period": 60.0},
			"period", "period"},
		{"managed policy size", "aws:iam/policy:Policy", "nat",
			map[string]any{"name": "nat", "policy": policy(6200)}, map[string]any{"name": "nat", "policy": policy(6000)},
			"policy", "managed policy"},
		{"launch type or capacity providers", arService, "upload",
			map[string]any{"name": "upload", "launchType": "FARGATE", "capacityProviderStrategies": []any{map[string]any{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}}},
			map[string]any{"name": "upload", "capacityProviderStrategies": []any{map[string]any{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}}},
			"(resource)", "launchType and capacityProviderStrategies"},
		{"budget subscriber", "aws:budgets/budget:Budget", "monthly",
			map[string]any{"name": "imagelabel-dev", "notifications": []any{map[string]any{"subscriberEmailAddresses": []any{""}}}},
			map[string]any{"name": "imagelabel-dev", "notifications": []any{map[string]any{"subscriberEmailAddresses": []any{"ops@example.com"}}}},
			"notifications[0].subscriberEmailAddresses[0]", "subscriber address"},
		{"EIP domain", "aws:ec2/eip:Eip", "nat",
			map[string]any{"domain": "VPC"}, map[string]any{"domain": "vpc"},
			"domain", "address domain"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			vs, unreg := checkPlan(planOf(c.typ, c.name, c.bad), awsRules, nil)
			if len(unreg) > 0 {
				t.Fatalf("type not registered: %v", unreg)
			}
			var hit *Violation
			for i := range vs {
				if (vs[i].Path == c.wantPath || strings.HasPrefix(vs[i].Path, c.wantPath+" (Pulumi auto-name")) && strings.Contains(vs[i].Rule, c.wantRule) {
					hit = &vs[i]
				}
			}
			if hit == nil {
				t.Fatalf("bad value not rejected at %s by a %q rule; got %v", c.wantPath, c.wantRule, vs)
			}
			msg := hit.String()
			for _, want := range []string{c.typ, fmt.Sprintf("%q", c.name), c.wantPath, hit.Rule, "source: http"} {
				if !strings.Contains(msg, want) && !(want == "source: http" && strings.Contains(msg, "source: CloudFormation")) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if good, _ := checkPlan(planOf(c.typ, c.name, c.good), awsRules, nil); len(good) > 0 {
				t.Errorf("the corrected value is rejected too: %v", good)
			}
		})
	}
}

// TestAWSRulesBadJSONOnce: a document that does not parse is reported once,
// with its text, not once per rule that looks inside it.
func TestAWSRulesBadJSONOnce(t *testing.T) {
	in := map[string]any{"family": "imagelabel-dev-upload", "cpu": "256", "memory": "512", "containerDefinitions": `[{"name":"upload",`}
	vs, _ := checkPlan(planOf(arTaskDef, "upload", in), awsRules, nil)
	if len(vs) != 1 || vs[0].Path != "containerDefinitions" || !strings.Contains(vs[0].Problem, "not valid JSON") || !strings.Contains(vs[0].Value, `name`) {
		t.Fatalf("want one invalid-JSON report quoting the document, got %v", vs)
	}
}

// TestAWSPlanRules covers the rules that relate resources.
func TestAWSPlanRules(t *testing.T) {
	t.Run("inline policies of a role add up", func(t *testing.T) {
		p := &plan.Result{}
		for i := range 3 {
			p.Resources = append(p.Resources, &plan.Resource{Type: arRolePol, Name: fmt.Sprintf("p%d", i), Custom: true,
				Inputs: map[string]any{"name": fmt.Sprintf("p%d", i), "role": "upload-task", "policy": policy(4000)}})
		}
		vs, _ := checkPlan(p, awsRules, awsPlanRules)
		if len(vs) != 1 || vs[0].Rule != ruleInlineTotal || !strings.Contains(vs[0].Value, "upload-task") {
			t.Fatalf("want one aggregate-size violation for role upload-task, got %v", vs)
		}
		p.Resources = p.Resources[:2]
		if vs, _ := checkPlan(p, awsRules, awsPlanRules); len(vs) != 0 {
			t.Fatalf("two policies of 4000 characters are within the quota, got %v", vs)
		}
	})
	t.Run("portName names a port mapping", func(t *testing.T) {
		svc := func(port string) *plan.Result {
			return &plan.Result{Resources: []*plan.Resource{
				{Type: arTaskDef, Name: "rekog", Custom: true, Inputs: map[string]any{"family": "imagelabel-dev-rekog", "cpu": "256", "memory": "512",
					"containerDefinitions": strings.ReplaceAll(containerDefs(""), `"upload"`, `"rekog"`)}},
				{Type: arService, Name: "rekog", Custom: true, Inputs: map[string]any{"name": "rekog",
					"taskDefinition":              "arn:aws:ecs:us-east-1:123456789012:task-definition/imagelabel-dev-rekog:1",
					"serviceConnectConfiguration": map[string]any{"services": []any{map[string]any{"portName": port, "discoveryName": "rekog"}}}}},
			}}
		}
		vs, _ := checkPlan(svc("http"), awsRules, awsPlanRules)
		if len(vs) != 1 || vs[0].Rule != rulePortNames || vs[0].Path != "serviceConnectConfiguration.services[0].portName" {
			t.Fatalf("want one portName violation, got %v", vs)
		}
		if vs, _ := checkPlan(svc("rekog"), awsRules, awsPlanRules); len(vs) != 0 {
			t.Fatalf("matching portName rejected: %v", vs)
		}
	})
}

// TestAWSRulesUnregisteredType shows a declared type without rules is
// reported, while components and providers are exempt.
func TestAWSRulesUnregisteredType(t *testing.T) {
	p := &plan.Result{Resources: []*plan.Resource{
		{Type: "aws:sqs/queue:Queue", Name: "jobs", Custom: true, Inputs: map[string]any{}},
		{Type: "aws:sqs/queue:Queue", Name: "dead", Custom: true, Inputs: map[string]any{}},
		{Type: plan.Project + ":service:FargateService", Name: "upload", Custom: false},
		{Type: "pulumi:providers:aws", Name: "default", Custom: true},
	}}
	_, unreg := checkPlan(p, awsRules, nil)
	if len(unreg) != 1 || !strings.HasPrefix(unreg[0], "aws:sqs/queue:Queue") {
		t.Fatalf("want exactly the queue type reported once, got %v", unreg)
	}
}

// TestAWSRulesTable keeps the table usable: every entry has rules or a
// reason, every rule a name, a source and a well-formed path, and the types
// other branches are adding are registered already.
func TestAWSRulesTable(t *testing.T) {
	for typ, tr := range awsRules {
		if (len(tr.rules) == 0) == (tr.none == "") {
			t.Errorf("%s: want either rules or a none reason, not both or neither", typ)
		}
		if tr.auto != nil && !hasRuleFor(tr, tr.auto.prop) {
			t.Errorf("%s: auto-named %s has no rule", typ, tr.auto.prop)
		}
		for _, r := range tr.rules {
			if r.name == "" || r.check == nil || !(strings.HasPrefix(r.source, "https://") || strings.HasPrefix(r.source, "CloudFormation ")) {
				t.Errorf("%s %s: rule needs a name, a check and a source URL (got %q, %q)", typ, r.path, r.name, r.source)
			}
			if r.path != "" && slices.Contains(strings.Split(r.path, "."), "") {
				t.Errorf("%s: empty segment in path %q", typ, r.path)
			}
		}
	}
	for _, typ := range []string{"aws:ec2/instance:Instance", "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:budgets/budget:Budget",
		"aws:ec2/eip:Eip", "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"} {
		if _, ok := awsRules[typ]; !ok {
			t.Errorf("%s is not registered", typ)
		}
	}
}

func hasRuleFor(tr typeRules, prop string) bool {
	for _, r := range tr.rules {
		if r.path == prop {
			return true
		}
	}
	return false
}
