package program_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// root is the repository root, where the stack files are.
const root = "../.."

// baseConfig is the dev stack's config as the tests use it (defaults plus
// the region), before per-test overrides.
func baseConfig() map[string]string {
	return map[string]string{"aws:region": "us-east-1"}
}

// model runs the whole program under the recording mocks with the default
// config plus overrides given as short keys (azCount=2 ...).
func model(t *testing.T, overrides ...string) *plan.Result {
	t.Helper()
	cfg := baseConfig()
	for _, kv := range overrides {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("bad override %q", kv)
		}
		cfg[stackconfig.Namespace+":"+k] = v
	}
	res, err := plan.Model("test", cfg)
	if err != nil {
		t.Fatalf("plan.Model(%v): %v", overrides, err)
	}
	return res
}

// one returns the single resource of typ named name.
func one(t *testing.T, p *plan.Result, typ, name string) *plan.Resource {
	t.Helper()
	var found []*plan.Resource
	for _, r := range p.Find(typ) {
		if r.Name == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s named %q, found %d", typ, name, len(found))
	}
	return found[0]
}

// idOf and arnOf return the mock id and ARN a resource was given.
func idOf(r *plan.Resource) string  { return r.Outputs["id"].(string) }
func arnOf(r *plan.Resource) string { return r.Outputs["arn"].(string) }

// get walks a dotted path through plain JSON values; numeric segments index
// arrays. It fails the test when the path does not exist.
func get(t *testing.T, v any, path string) any {
	t.Helper()
	cur := v
	for _, seg := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[seg]
			if !ok {
				t.Fatalf("path %q: no key %q in %v", path, seg, keysOf(c))
			}
			cur = next
		case []any:
			var i int
			if _, err := fmt.Sscanf(seg, "%d", &i); err != nil || i < 0 || i >= len(c) {
				t.Fatalf("path %q: bad index %q (len %d)", path, seg, len(c))
			}
			cur = c[i]
		default:
			t.Fatalf("path %q: cannot descend into %T at %q", path, cur, seg)
		}
	}
	return cur
}

// has reports whether a dotted path exists.
func has(v any, path string) bool {
	cur := v
	for _, seg := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[seg]; !ok || cur == nil {
			return false
		}
	}
	return true
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// jsonField parses a JSON-document string input (policies, container
// definitions) of a resource.
func jsonField(t *testing.T, r *plan.Resource, key string) any {
	t.Helper()
	s, ok := r.Inputs[key].(string)
	if !ok {
		t.Fatalf("%s %s: input %s is %T, want JSON string", r.Type, r.Name, key, r.Inputs[key])
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s %s: input %s is not JSON: %v", r.Type, r.Name, key, err)
	}
	return v
}

// container returns the single container definition of a task definition.
func container(t *testing.T, p *plan.Result, name string) map[string]any {
	t.Helper()
	defs, ok := jsonField(t, one(t, p, typTaskDef, name), "containerDefinitions").([]any)
	if !ok || len(defs) != 1 {
		t.Fatalf("task definition %s: want one container, got %v", name, defs)
	}
	return defs[0].(map[string]any)
}

// envOf returns a container's environment as a map.
func envOf(t *testing.T, c map[string]any) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c["environment"].([]any) {
		m := e.(map[string]any)
		env[m["name"].(string)] = m["value"].(string)
	}
	return env
}

// strs converts a []any of strings.
func strs(t *testing.T, v any) []string {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("want array, got %T %v", v, v)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		out[i], ok = e.(string)
		if !ok {
			t.Fatalf("want string at %d, got %T", i, e)
		}
	}
	return out
}

// Type tokens used by the tests.
const (
	typVpc         = "aws:ec2/vpc:Vpc"
	typSubnet      = "aws:ec2/subnet:Subnet"
	typRouteTable  = "aws:ec2/routeTable:RouteTable"
	typRTAssoc     = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	typIGW         = "aws:ec2/internetGateway:InternetGateway"
	typNAT         = "aws:ec2/natGateway:NatGateway"
	typEIP         = "aws:ec2/eip:Eip"
	typEndpoint    = "aws:ec2/vpcEndpoint:VpcEndpoint"
	typSG          = "aws:ec2/securityGroup:SecurityGroup"
	typDefaultSG   = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	typFlowLog     = "aws:ec2/flowLog:FlowLog"
	typIngress     = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typEgress      = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	typCluster     = "aws:ecs/cluster:Cluster"
	typTaskDef     = "aws:ecs/taskDefinition:TaskDefinition"
	typService     = "aws:ecs/service:Service"
	typHTTPNS      = "aws:servicediscovery/httpNamespace:HttpNamespace"
	typDNSNS       = "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace"
	typSDService   = "aws:servicediscovery/service:Service"
	typAPI         = "aws:apigatewayv2/api:Api"
	typVpcLink     = "aws:apigatewayv2/vpcLink:VpcLink"
	typIntegration = "aws:apigatewayv2/integration:Integration"
	typRoute       = "aws:apigatewayv2/route:Route"
	typStage       = "aws:apigatewayv2/stage:Stage"
	typLogGroup    = "aws:cloudwatch/logGroup:LogGroup"
	typRole        = "aws:iam/role:Role"
	typRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	typBucket      = "aws:s3/bucketV2:BucketV2"
	typPAB         = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typOwnership   = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	typSSE         = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typLifecycle   = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typBucketPol   = "aws:s3/bucketPolicy:BucketPolicy"
	typRepo        = "aws:ecr/repository:Repository"
	typRepoPolicy  = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	typImage       = "docker:index/image:Image"
	typScaleTarget = "aws:appautoscaling/target:Target"
	typScalePolicy = "aws:appautoscaling/policy:Policy"
)
