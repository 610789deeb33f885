package plan

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/stackconfig"
)

// recorder is a pulumi.MockResourceMonitor that records every resource and
// answers with realistic ids, ARNs and provider-computed outputs.
type recorder struct {
	region  string
	account string

	mu        sync.Mutex
	resources []*Resource
}

func newRecorder(region string) *recorder {
	if region == "" {
		region = MockRegion
	}
	return &recorder{region: region, account: MockAccount}
}

// optInFiltered reports whether getAvailabilityZones was asked for the
// region's standard zones only (opt-in-status = opt-in-not-required).
func optInFiltered(args resource.PropertyMap) bool {
	filters, ok := args["filters"]
	if !ok || !filters.IsArray() {
		return false
	}
	for _, f := range filters.ArrayValue() {
		if !f.IsObject() {
			continue
		}
		obj := f.ObjectValue()
		name, values := obj["name"], obj["values"]
		if !name.IsString() || name.StringValue() != "opt-in-status" || !values.IsArray() {
			continue
		}
		vs := values.ArrayValue()
		if len(vs) == 1 && vs[0].IsString() && vs[0].StringValue() == "opt-in-not-required" {
			return true
		}
	}
	return false
}

// filterValue returns the first value of the invoke filter called name, or
// "".
func filterValue(args resource.PropertyMap, name string) string {
	filters, ok := args["filters"]
	if !ok || !filters.IsArray() {
		return ""
	}
	for _, f := range filters.ArrayValue() {
		if !f.IsObject() {
			continue
		}
		obj := f.ObjectValue()
		if n, vs := obj["name"], obj["values"]; n.IsString() && n.StringValue() == name && vs.IsArray() && len(vs.ArrayValue()) > 0 && vs.ArrayValue()[0].IsString() {
			return vs.ArrayValue()[0].StringValue()
		}
	}
	return ""
}

// mockZoneOrder is the zone ID number behind each zone name a, b, c, ...
// of the mock account. As in a real account the mapping is not the
// identity, and in us-east-1 the second name is use1-az3, where API Gateway
// has no VPC links: a program choosing zones by name would pick it.
var mockZoneOrder = []int{4, 3, 6, 1, 2, 5}

// mockZonePrefix returns the zone ID prefix of a region (use1 for
// us-east-1), taken from the VPC-link zone list, or "mock1" for a region it
// does not know.
func mockZonePrefix(region string) string {
	if z := stackconfig.VPCLinkZones(region); len(z) > 0 {
		return z[0][:strings.LastIndex(z[0], "-az")]
	}
	return "mock1"
}

// availabilityZones answers getAvailabilityZones: six zones a..f, and a
// Local Zone unless the caller filters on opt-in-status.
func (m *recorder) availabilityZones(args resource.PropertyMap) resource.PropertyMap {
	var names, ids []any
	prefix := mockZonePrefix(m.region)
	for i, s := range "abcdef" {
		names = append(names, m.region+string(s))
		ids = append(ids, fmt.Sprintf("%s-az%d", prefix, mockZoneOrder[i]))
		if i == 0 && !optInFiltered(args) {
			// As in AWS, opted-in Local Zones are listed among the
			// zones unless the caller filters on opt-in-status.
			names = append(names, m.region+"-bos-1a")
			ids = append(ids, prefix+"-bos1-az1")
		}
	}
	return resource.NewPropertyMapFromMap(map[string]any{"names": names, "zoneIds": ids, "id": m.region, "state": "available"})
}

// Call answers the provider functions the program invokes.
func (m *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": m.region, "id": m.region, "description": "mock region",
			"endpoint": "ec2." + m.region + ".amazonaws.com",
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": m.account, "id": m.account, "userId": "AIDAMOCKUSER",
			"arn": "arn:aws:iam::" + m.account + ":user/mock",
		}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return m.availabilityZones(args.Args), nil
	case "aws:ec2/getVpcEndpointService:getVpcEndpointService":
		// As in AWS, an endpoint service is not offered in every zone: in
		// the mock account, rekognition lacks the last zone name (f).
		name := args.Args["serviceName"].StringValue()
		var zones []any
		for _, s := range "abcdef" {
			if s != 'f' || !strings.HasSuffix(name, ".rekognition") {
				zones = append(zones, m.region+string(s))
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"serviceName": name, "id": name, "serviceType": "Interface", "availabilityZones": zones,
			"privateDnsName": strings.TrimPrefix(name, "com.amazonaws.") + ".amazonaws.com",
		}), nil
	case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
		// Every instance type is offered in every zone of the mock account
		// (the refusal of a zone without one is tested on its own).
		prefix := mockZonePrefix(m.region)
		var locs, types, ltypes []any
		for _, n := range mockZoneOrder {
			locs = append(locs, fmt.Sprintf("%s-az%d", prefix, n))
			types = append(types, filterValue(args.Args, "instance-type"))
			ltypes = append(ltypes, "availability-zone-id")
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": m.region, "locations": locs, "instanceTypes": types, "locationTypes": ltypes,
		}), nil
	case "aws:ssm/getParameter:getParameter":
		// Public AMI parameters (the NAT instance's AMI).
		name := args.Args["name"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "id": name, "type": "String", "insecureValue": "ami-0" + infra.ShortHash(16, name),
			"arn": "arn:aws:ssm:" + m.region + "::parameter" + name,
		}), nil
	case "aws:route53/getZone:getZone":
		return mockZone(args.Args)
	case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
		pm := resource.NewPropertyMapFromMap(map[string]any{
			"userName": "AWS", "id": m.region, "expiresAt": "2030-01-01T00:00:00Z",
			"proxyEndpoint": fmt.Sprintf("https://%s.dkr.ecr.%s.amazonaws.com", m.account, m.region),
		})
		pm["password"] = resource.MakeSecret(resource.NewProperty("mock-ecr-password"))
		pm["authorizationToken"] = resource.MakeSecret(resource.NewProperty("QVdTOm1vY2s="))
		return pm, nil
	}
	return nil, fmt.Errorf("mock: unexpected call %s", args.Token)
}

// NewResource records the resource and returns its mock id and state: the
// inputs plus what the provider would compute (arn, generated names, URLs).
func (m *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	in := args.Inputs.Copy()
	state := args.Inputs.Copy()
	id := ""
	if args.Custom {
		extra := m.computed(args.TypeToken, args.Name, in)
		id, _ = extra["id"].(string)
		for k, v := range extra {
			if k != "id" {
				state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
			}
		}
	}
	r := &Resource{
		Type:      args.TypeToken,
		Name:      args.Name,
		Custom:    args.Custom,
		Inputs:    plainMap(in),
		rawInputs: in,
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		if strings.Contains(r.Parent, "::pulumi:pulumi:Stack::") {
			r.Parent = ""
		}
		r.DependsOn = rpc.GetDependencies()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		if t := rpc.GetCustomTimeouts(); t.GetCreate()+t.GetUpdate()+t.GetDelete() != "" {
			r.CustomTimeouts = &Timeouts{Create: t.GetCreate(), Update: t.GetUpdate(), Delete: t.GetDelete()}
		}
		sort.Strings(r.DependsOn)
		r.URN = urnOf(rpc.GetParent(), args.TypeToken, args.Name)
	}
	r.Outputs = plainMap(state)
	if id != "" {
		r.Outputs["id"] = id
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, state, nil
}

// urnOf builds the URN the mock monitor gives a resource
// (urn:pulumi:<stack>::<project>::<parent types$>type::name).
func urnOf(parent, typ, name string) string {
	if parent == "" {
		return ""
	}
	// parent: urn:pulumi:stack::project::qualifiedType::name
	parts := strings.SplitN(parent, "::", 4)
	if len(parts) < 4 {
		return ""
	}
	qual := parts[2]
	if qual == "pulumi:pulumi:Stack" {
		qual = typ
	} else {
		qual += "$" + typ
	}
	return parts[0] + "::" + parts[1] + "::" + qual + "::" + name
}

// computed returns the id and provider-computed outputs of a custom
// resource, shaped like real AWS values.
func (m *recorder) computed(typ, name string, in resource.PropertyMap) map[string]any {
	s := &mockOutputs{region: m.region, account: m.account, typ: typ, name: name, in: in, out: map[string]any{}}
	for _, family := range []func(*mockOutputs) bool{
		ec2Outputs, discoveryOutputs, containerOutputs, logsIAMOutputs, bucketOutputs, apiOutputs, domainOutputs,
	} {
		if family(s) {
			return s.out
		}
	}
	s.out["id"] = name + "-" + s.h(7)
	s.out["arn"] = fmt.Sprintf("arn:aws:mock:%s:%s:%s/%s", m.region, m.account, typ, name)
	return s.out
}

// mockOutputs is one custom resource being given its made-up outputs.
type mockOutputs struct {
	region, account string
	typ, name       string
	in              resource.PropertyMap
	out             map[string]any
}

// str returns the string input k, or "".
func (s *mockOutputs) str(k string) string {
	if v, ok := s.in[resource.PropertyKey(k)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

// h returns n hex characters derived from the resource's type and name.
func (s *mockOutputs) h(n int) string { return infra.ShortHash(n, s.typ, s.name) }

// auto is the resource's name input, else its auto-name: Pulumi appends a
// random suffix to the logical name.
func (s *mockOutputs) auto() string {
	if n := s.str("name"); n != "" {
		return n
	}
	return s.name + "-" + s.h(7)
}

// ec2 sets the id and ARN of an EC2 resource of kind, ids prefixed prefix.
func (s *mockOutputs) ec2(prefix, kind string) {
	id := prefix + "-" + s.h(17)
	s.out["id"] = id
	s.out["arn"] = fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", s.region, s.account, kind, id)
}

// ec2Outputs sets the outputs of the VPC and its network resources;
// false for another type.
func ec2Outputs(s *mockOutputs) bool {
	out := s.out
	switch s.typ {
	case "aws:ec2/vpc:Vpc":
		s.ec2("vpc", "vpc")
		out["defaultSecurityGroupId"] = "sg-" + infra.ShortHash(17, s.name, "default")
	case "aws:ec2/subnet:Subnet":
		s.ec2("subnet", "subnet")
	case "aws:ec2/internetGateway:InternetGateway":
		s.ec2("igw", "internet-gateway")
	case "aws:ec2/routeTable:RouteTable":
		s.ec2("rtb", "route-table")
	case "aws:ec2/routeTableAssociation:RouteTableAssociation":
		out["id"] = "rtbassoc-" + s.h(17)
	case "aws:ec2/eip:Eip":
		s.ec2("eipalloc", "elastic-ip")
		out["publicIp"] = "198.51.100.10"
	case "aws:ec2/instance:Instance":
		s.ec2("i", "instance")
		out["primaryNetworkInterfaceId"] = "eni-" + s.h(17)
	case "aws:ec2/natGateway:NatGateway":
		s.ec2("nat", "natgateway")
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		s.ec2("vpce", "vpc-endpoint")
		out["prefixListId"] = "pl-63a5400a"
	case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
		s.ec2("sg", "security-group")
	case "aws:ec2/flowLog:FlowLog":
		s.ec2("fl", "vpc-flow-log")
	case "aws:ec2/securityGroup:SecurityGroup":
		s.ec2("sg", "security-group")
		out["name"] = s.auto()
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		s.ec2("sgr", "security-group-rule")
		out["securityGroupRuleId"] = out["id"]
	default:
		return false
	}
	return true
}

// discoveryOutputs sets the outputs of Cloud Map namespaces and services;
// false for another type.
func discoveryOutputs(s *mockOutputs) bool {
	r, a := s.region, s.account
	out := s.out
	switch s.typ {
	case "aws:servicediscovery/httpNamespace:HttpNamespace", "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
		id := "ns-" + s.h(16)
		out["id"] = id
		out["arn"] = fmt.Sprintf("arn:aws:servicediscovery:%s:%s:namespace/%s", r, a, id)
		out["httpName"] = s.str("name")
		if s.typ == "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace" {
			out["hostedZone"] = "Z" + strings.ToUpper(s.h(20))
		}
	case "aws:servicediscovery/service:Service":
		id := "srv-" + s.h(16)
		out["id"] = id
		out["arn"] = fmt.Sprintf("arn:aws:servicediscovery:%s:%s:service/%s", r, a, id)
	default:
		return false
	}
	return true
}

// containerOutputs sets the outputs of the ECS cluster, task definitions
// and services, the ECR repositories and the images;
// false for another type.
func containerOutputs(s *mockOutputs) bool {
	r, a := s.region, s.account
	out := s.out
	switch s.typ {
	case "aws:ecs/cluster:Cluster":
		n := s.auto()
		out["name"] = n
		out["arn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", r, a, n)
		out["id"] = out["arn"]
	case "aws:ecs/taskDefinition:TaskDefinition":
		fam := s.str("family")
		out["arn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:1", r, a, fam)
		out["arnWithoutRevision"] = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s", r, a, fam)
		out["revision"] = 1
		out["id"] = fam
	case "aws:ecs/service:Service":
		n := s.auto()
		cluster := "cluster"
		if c := s.str("cluster"); c != "" {
			cluster = c[strings.LastIndex(c, "/")+1:]
		}
		out["name"] = n
		out["id"] = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", r, a, cluster, n)
		out["arn"] = out["id"]
	case "aws:ecr/repository:Repository":
		n := s.auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", r, a, n)
		out["registryId"] = a
		out["repositoryUrl"] = fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", a, r, n)
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		out["id"] = s.str("repository")
		out["registryId"] = a
	case "docker:index/image:Image":
		img := s.str("imageName")
		repo := img
		if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
			repo = img[:i]
		}
		out["id"] = img
		out["baseImageName"] = img
		out["repoDigest"] = repo + "@sha256:" + infra.ShortHash(64, img)
	default:
		return false
	}
	return true
}

// logsIAMOutputs sets the outputs of log groups and IAM roles and policies;
// false for another type.
func logsIAMOutputs(s *mockOutputs) bool {
	r, a := s.region, s.account
	out := s.out
	switch s.typ {
	case "aws:cloudwatch/logGroup:LogGroup":
		n := s.auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", r, a, n)
	case "aws:iam/role:Role":
		n := s.auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:iam::%s:role/%s", a, n)
		out["uniqueId"] = "AROA" + strings.ToUpper(s.h(17))
	case "aws:iam/rolePolicy:RolePolicy":
		n := s.auto()
		out["name"] = n
		out["id"] = s.str("role") + ":" + n
	default:
		return false
	}
	return true
}

// bucketOutputs sets the outputs of the bucket and its settings;
// false for another type.
func bucketOutputs(s *mockOutputs) bool {
	r := s.region
	out := s.out
	switch s.typ {
	case "aws:s3/bucketV2:BucketV2":
		n := s.str("bucket")
		if n == "" {
			n = s.name + "-" + s.h(7)
		}
		out["bucket"] = n
		out["id"] = n
		out["arn"] = "arn:aws:s3:::" + n
		out["bucketDomainName"] = n + ".s3.amazonaws.com"
		out["bucketRegionalDomainName"] = n + ".s3." + r + ".amazonaws.com"
		out["region"] = r
	case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "aws:s3/bucketPolicy:BucketPolicy":
		out["id"] = s.str("bucket")
	default:
		return false
	}
	return true
}

// apiOutputs sets the outputs of the HTTP API and its parts, and autoscaling;
// false for another type.
func apiOutputs(s *mockOutputs) bool {
	r, a := s.region, s.account
	out := s.out
	switch s.typ {
	case "aws:apigatewayv2/api:Api":
		id := s.h(10)
		out["id"] = id
		out["name"] = s.auto()
		out["arn"] = fmt.Sprintf("arn:aws:apigateway:%s::/apis/%s", r, id)
		out["apiEndpoint"] = fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com", id, r)
		out["executionArn"] = fmt.Sprintf("arn:aws:execute-api:%s:%s:%s", r, a, id)
	case "aws:apigatewayv2/vpcLink:VpcLink":
		id := s.h(6)
		out["id"] = id
		out["arn"] = fmt.Sprintf("arn:aws:apigateway:%s::/vpclinks/%s", r, id)
	case "aws:apigatewayv2/integration:Integration":
		out["id"] = s.h(7)
	case "aws:apigatewayv2/route:Route":
		out["id"] = s.h(7)
	case "aws:apigatewayv2/stage:Stage":
		api := s.str("apiId")
		out["id"] = s.str("name")
		out["arn"] = fmt.Sprintf("arn:aws:apigateway:%s::/apis/%s/stages/%s", r, api, s.str("name"))
		out["executionArn"] = fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s", r, a, api, s.str("name"))
		out["invokeUrl"] = fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/", api, r)
	case "aws:appautoscaling/target:Target":
		out["id"] = s.str("resourceId")
		out["arn"] = fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s", r, a, s.h(20))
	case "aws:appautoscaling/policy:Policy":
		n := s.auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/ecs/%s:policyName/%s", r, a, s.h(8), s.str("resourceId"), n)
	default:
		return false
	}
	return true
}

// plainMap converts a property map to plain JSON values; secrets become
// "[secret]", unknowns "[unknown]", resource references their URN.
func plainMap(pm resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(pm))
	for k, v := range pm {
		if strings.HasPrefix(string(k), "__") { // SDK bookkeeping such as __defaults
			continue
		}
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = plainValue(e)
		}
		return out
	case v.IsObject():
		return plainMap(v.ObjectValue())
	case v.IsSecret():
		return "[secret]"
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return "[secret]"
		}
		if !o.Known {
			return "[unknown]"
		}
		return plainValue(o.Element)
	case v.IsComputed():
		return "[unknown]"
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsAsset():
		return v.AssetValue().Path
	case v.IsArchive():
		return v.ArchiveValue().Path
	}
	return fmt.Sprint(v.V)
}
