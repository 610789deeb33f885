package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"imagelabel/infra"
)

// projectName is the Pulumi project name (Pulumi.yaml).
const projectName = "imagelabel"

// Mock identity of the offline plan and the tests: the documented example
// account, never a real one.
const (
	mockAccount = "123456789012"
	mockRegion  = "us-east-1"
)

// planResource is one declared resource as the plan reports it.
type planResource struct {
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	URN     string         `json:"urn"`
	Parent  string         `json:"parent"` // URN of the parent; "" for the stack
	Custom  bool           `json:"custom"` // false for components
	Inputs  map[string]any `json:"inputs"`
	Outputs map[string]any `json:"outputs"`
	// DependsOn lists the URNs this resource waits for: the resources its
	// inputs come from plus explicit DependsOn options (components expanded
	// to their children), as sent to the engine.
	DependsOn []string `json:"dependsOn,omitempty"`
	// IgnoreChanges lists inputs Pulumi leaves alone after creation (e.g. an
	// autoscaled service's desiredCount).
	IgnoreChanges []string `json:"ignoreChanges,omitempty"`
	// DeleteBeforeReplace: a replacement deletes the old resource before
	// creating the new one (for names that cannot exist twice).
	DeleteBeforeReplace bool `json:"deleteBeforeReplace,omitempty"`
	// CustomTimeouts are the create/update/delete timeouts given to the
	// provider, when set.
	CustomTimeouts *planTimeouts `json:"customTimeouts,omitempty"`
	// Placeholders lists the outputs the mocks made up (ids, ARNs, URLs):
	// AWS assigns the real values at `pulumi up`. Set by the plan only.
	Placeholders []string `json:"placeholders,omitempty"`

	rawInputs resource.PropertyMap
}

// planTimeouts are a resource's custom timeouts (Go durations as strings).
type planTimeouts struct {
	Create string `json:"create,omitempty"`
	Update string `json:"update,omitempty"`
	Delete string `json:"delete,omitempty"`
}

// planResult is the whole plan: every resource in declaration order and the
// stack outputs.
type planResult struct {
	Resources []*planResource `json:"resources"`
	Outputs   map[string]any  `json:"outputs"`
	// PlaceholderOutputs lists the stack outputs that hold a made-up value
	// (see planResource.Placeholders). Set by the plan only.
	PlaceholderOutputs []string `json:"placeholderOutputs,omitempty"`

	placeholders map[string]bool // made-up output strings, for printTree
}

// find returns the resources of a type token, in declaration order.
func (p *planResult) find(typ string) []*planResource {
	var out []*planResource
	for _, r := range p.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// recorder is a pulumi.MockResourceMonitor that records every resource and
// answers with realistic ids, ARNs and provider-computed outputs.
type recorder struct {
	region  string
	account string

	mu        sync.Mutex
	resources []*planResource
}

func newRecorder(region string) *recorder {
	if region == "" {
		region = mockRegion
	}
	return &recorder{region: region, account: mockAccount}
}

// hexID returns n deterministic hex characters derived from parts, so a
// plan is reproducible run to run.
func hexID(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])[:n]
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
	if z := vpcLinkZones[region]; len(z) > 0 {
		return z[0][:strings.LastIndex(z[0], "-az")]
	}
	return "mock1"
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
		var names, ids []any
		prefix := mockZonePrefix(m.region)
		for i, s := range "abcdef" {
			names = append(names, m.region+string(s))
			ids = append(ids, fmt.Sprintf("%s-az%d", prefix, mockZoneOrder[i]))
			if i == 0 && !optInFiltered(args.Args) {
				// As in AWS, opted-in Local Zones are listed among the
				// zones unless the caller filters on opt-in-status.
				names = append(names, m.region+"-bos-1a")
				ids = append(ids, prefix+"-bos1-az1")
			}
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "zoneIds": ids, "id": m.region, "state": "available"}), nil
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
			"name": name, "id": name, "type": "String", "insecureValue": "ami-0" + hexID(16, name),
			"arn": "arn:aws:ssm:" + m.region + "::parameter" + name,
		}), nil
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
	r := &planResource{
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
			r.CustomTimeouts = &planTimeouts{Create: t.GetCreate(), Update: t.GetUpdate(), Delete: t.GetDelete()}
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
	r, a := m.region, m.account
	str := func(k string) string {
		if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	h := func(n int) string { return hexID(n, typ, name) }
	// Auto-names: Pulumi appends a random suffix to the logical name.
	auto := func() string {
		if n := str("name"); n != "" {
			return n
		}
		return name + "-" + h(7)
	}
	out := map[string]any{}
	ec2 := func(prefix, kind string) {
		id := prefix + "-" + h(17)
		out["id"] = id
		out["arn"] = fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", r, a, kind, id)
	}
	switch typ {
	case "aws:ec2/vpc:Vpc":
		ec2("vpc", "vpc")
		out["defaultSecurityGroupId"] = "sg-" + hexID(17, name, "default")
	case "aws:ec2/subnet:Subnet":
		ec2("subnet", "subnet")
	case "aws:ec2/internetGateway:InternetGateway":
		ec2("igw", "internet-gateway")
	case "aws:ec2/routeTable:RouteTable":
		ec2("rtb", "route-table")
	case "aws:ec2/routeTableAssociation:RouteTableAssociation":
		out["id"] = "rtbassoc-" + h(17)
	case "aws:ec2/eip:Eip":
		ec2("eipalloc", "elastic-ip")
		out["publicIp"] = "198.51.100.10"
	case "aws:ec2/instance:Instance":
		ec2("i", "instance")
		out["primaryNetworkInterfaceId"] = "eni-" + h(17)
	case "aws:ec2/natGateway:NatGateway":
		ec2("nat", "natgateway")
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		ec2("vpce", "vpc-endpoint")
		out["prefixListId"] = "pl-63a5400a"
	case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
		ec2("sg", "security-group")
	case "aws:ec2/flowLog:FlowLog":
		ec2("fl", "vpc-flow-log")
	case "aws:ec2/securityGroup:SecurityGroup":
		ec2("sg", "security-group")
		out["name"] = auto()
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		ec2("sgr", "security-group-rule")
		out["securityGroupRuleId"] = out["id"]
	case "aws:servicediscovery/httpNamespace:HttpNamespace", "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
		id := "ns-" + h(16)
		out["id"] = id
		out["arn"] = fmt.Sprintf("arn:aws:servicediscovery:%s:%s:namespace/%s", r, a, id)
		out["httpName"] = str("name")
		if typ == "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace" {
			out["hostedZone"] = "Z" + strings.ToUpper(h(20))
		}
	case "aws:servicediscovery/service:Service":
		id := "srv-" + h(16)
		out["id"] = id
		out["arn"] = fmt.Sprintf("arn:aws:servicediscovery:%s:%s:service/%s", r, a, id)
	case "aws:ecs/cluster:Cluster":
		n := auto()
		out["name"] = n
		out["arn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", r, a, n)
		out["id"] = out["arn"]
	case "aws:ecs/taskDefinition:TaskDefinition":
		fam := str("family")
		out["arn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:1", r, a, fam)
		out["arnWithoutRevision"] = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s", r, a, fam)
		out["revision"] = 1
		out["id"] = fam
	case "aws:ecs/service:Service":
		n := auto()
		cluster := "cluster"
		if c := str("cluster"); c != "" {
			cluster = c[strings.LastIndex(c, "/")+1:]
		}
		out["name"] = n
		out["id"] = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", r, a, cluster, n)
		out["arn"] = out["id"]
	case "aws:ecr/repository:Repository":
		n := auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", r, a, n)
		out["registryId"] = a
		out["repositoryUrl"] = fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", a, r, n)
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		out["id"] = str("repository")
		out["registryId"] = a
	case "docker:index/image:Image":
		img := str("imageName")
		repo := img
		if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
			repo = img[:i]
		}
		out["id"] = img
		out["baseImageName"] = img
		out["repoDigest"] = repo + "@sha256:" + hexID(64, img)
	case "aws:cloudwatch/logGroup:LogGroup":
		n := auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", r, a, n)
	case "aws:iam/role:Role":
		n := auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:iam::%s:role/%s", a, n)
		out["uniqueId"] = "AROA" + strings.ToUpper(h(17))
	case "aws:iam/rolePolicy:RolePolicy":
		n := auto()
		out["name"] = n
		out["id"] = str("role") + ":" + n
	case "aws:s3/bucketV2:BucketV2":
		n := str("bucket")
		if n == "" {
			n = name + "-" + h(7)
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
		out["id"] = str("bucket")
	case "aws:apigatewayv2/api:Api":
		id := h(10)
		out["id"] = id
		out["name"] = auto()
		out["arn"] = fmt.Sprintf("arn:aws:apigateway:%s::/apis/%s", r, id)
		out["apiEndpoint"] = fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com", id, r)
		out["executionArn"] = fmt.Sprintf("arn:aws:execute-api:%s:%s:%s", r, a, id)
	case "aws:apigatewayv2/vpcLink:VpcLink":
		id := h(6)
		out["id"] = id
		out["arn"] = fmt.Sprintf("arn:aws:apigateway:%s::/vpclinks/%s", r, id)
	case "aws:apigatewayv2/integration:Integration":
		out["id"] = h(7)
	case "aws:apigatewayv2/route:Route":
		out["id"] = h(7)
	case "aws:apigatewayv2/stage:Stage":
		api := str("apiId")
		out["id"] = str("name")
		out["arn"] = fmt.Sprintf("arn:aws:apigateway:%s::/apis/%s/stages/%s", r, api, str("name"))
		out["executionArn"] = fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s", r, a, api, str("name"))
		out["invokeUrl"] = fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/", api, r)
	case "aws:appautoscaling/target:Target":
		out["id"] = str("resourceId")
		out["arn"] = fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s", r, a, h(20))
	case "aws:appautoscaling/policy:Policy":
		n := auto()
		out["name"] = n
		out["id"] = n
		out["arn"] = fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/ecs/%s:policyName/%s", r, a, h(8), str("resourceId"), n)
	default:
		out["id"] = name + "-" + h(7)
		out["arn"] = fmt.Sprintf("arn:aws:mock:%s:%s:%s/%s", r, a, typ, name)
	}
	return out
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

// fakeBuild is the builder of the plan and tests: no compiler, no Docker; a
// deterministic content-like tag per service and architecture.
func fakeBuild(service, goarch string) (infra.ImageSource, error) {
	dir := filepath.Join(".build", service+"-linux-"+goarch)
	return infra.ImageSource{
		Context:    dir,
		Dockerfile: filepath.Join(dir, "Dockerfile"),
		Tag:        hexID(12, "image", service, goarch),
	}, nil
}

// runModel runs the program under mocks with the given stack config (keys
// fully qualified, e.g. imagelabel:azCount, aws:region) and returns what it
// declared.
func runModel(stack string, config map[string]string) (*planResult, error) {
	cfgJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	// The Go SDK reads the stack config from PULUMI_CONFIG (as set by the
	// Pulumi CLI); the mocked run reads it the same way.
	prev, had := os.LookupEnv(pulumi.EnvConfig)
	if err := os.Setenv(pulumi.EnvConfig, string(cfgJSON)); err != nil {
		return nil, fmt.Errorf("set %s: %w", pulumi.EnvConfig, err)
	}
	defer func() {
		// Restoring the caller's environment cannot meaningfully fail.
		if had {
			_ = os.Setenv(pulumi.EnvConfig, prev)
		} else {
			_ = os.Unsetenv(pulumi.EnvConfig)
		}
	}()

	rec := newRecorder(config["aws:region"])
	var (
		mu      sync.Mutex
		pending sync.WaitGroup
		outs    = map[string]any{}
	)
	// RunErr does not wait for applies nobody consumes, so each recording
	// apply is counted and awaited below.
	record := func(name string, v pulumi.StringOutput) {
		pending.Add(1)
		v.ApplyT(func(s string) string {
			defer pending.Done()
			mu.Lock()
			outs[name] = s
			mu.Unlock()
			return s
		})
	}
	if err := pulumi.RunErr(program(fakeBuild, record), pulumi.WithMocks(projectName, stack, rec)); err != nil {
		// RunErr wraps the program's error in a list of one ("1 error
		// occurred"), which would stand above several config problems.
		var ce configErrors
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, err
	}
	done := make(chan struct{})
	go func() { pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("stack outputs did not resolve")
	}
	mu.Lock()
	defer mu.Unlock()
	// Resources register concurrently; sort for a reproducible plan.
	sort.Slice(rec.resources, func(i, j int) bool { return rec.resources[i].URN < rec.resources[j].URN })
	return &planResult{Resources: rec.resources, Outputs: outs}, nil
}

// readStackConfig reads the config: section of Pulumi.<stack>.yaml in dir.
// Keys without a namespace belong to the project (Pulumi's rule); secure
// values are reported as "[secret]". A missing file is explained: which
// stacks have a file in dir and how to make one.
func readStackConfig(dir, stack string) (map[string]string, error) {
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingStackError(dir, stack)
	}
	if err != nil {
		return nil, fmt.Errorf("read stack config: %w", err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	out := map[string]string{}
	for k, v := range doc.Config {
		if !strings.Contains(k, ":") {
			k = projectName + ":" + k
		}
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["secure"]; ok {
				out[k] = "[secret]"
				continue
			}
			j, _ := json.Marshal(v)
			out[k] = string(j)
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// missingStackError says that stack has no config file in dir, which stacks
// do, and the two ways to make one.
func missingStackError(dir, stack string) error {
	files, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	var stacks []string
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		stacks = append(stacks, name)
	}
	have := "no stack has one yet"
	if len(stacks) > 0 {
		have = "stacks with a config file: " + strings.Join(stacks, ", ")
	}
	return fmt.Errorf("no config file Pulumi.%s.yaml for stack %q (%s).\n"+
		"Create the stack with `pulumi stack init %s` (then `pulumi config set KEY VALUE`),\n"+
		"or copy Pulumi.dev.yaml to Pulumi.%s.yaml to plan with the dev settings", stack, stack, have, stack, stack)
}

// setFlags collects repeated --set key=value flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// errHelp is returned by runPlan after it printed its help; errUsage wraps
// errors in how it was called.
var (
	errHelp  = errors.New("help requested")
	errUsage = errors.New("usage")
)

const planUsage = "usage: go run . plan [--json] [--stack NAME] [--set key=value ...]"

// runPlan implements `go run . plan [--json] [--stack NAME] [--set key=value ...]`:
// the program under mocks with the stack's config, offline (no credentials,
// no Docker, no network). dir holds Pulumi.<stack>.yaml. With -h/--help it
// prints the flags and config keys to stdout and returns errHelp.
func runPlan(args []string, dir string, stdout io.Writer) error {
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	asJSON := flags.Bool("json", false, "print the plan as JSON instead of a tree")
	stack := flags.String("stack", "dev", "stack whose Pulumi.<stack>.yaml config is used")
	var sets setFlags
	flags.Var(&sets, "set", "override a config `key=value` of the stack file (repeatable)")
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		if err := printPlanHelp(stdout, flags); err != nil {
			return err
		}
		return errHelp
	} else if err != nil {
		return fmt.Errorf("%w: %w (%s; --help lists the flags and config keys)", errUsage, err, planUsage)
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (%s)", errUsage, flags.Arg(0), planUsage)
	}
	config, err := readStackConfig(dir, *stack)
	if err != nil {
		return err
	}
	overrides, err := applySets(config, sets)
	if err != nil {
		return err
	}
	res, err := runModel(*stack, config)
	if err != nil {
		return err
	}
	markPlaceholders(res, config["aws:region"])
	cost, err := planCost(res, config)
	if err != nil {
		return err
	}
	if *asJSON {
		return writePlanJSON(stdout, res, cost)
	}
	if err := printTree(stdout, *stack, overrides, res); err != nil {
		return err
	}
	return printCost(stdout, cost)
}

// applySets applies --set key=value flags to config (keys fully qualified)
// and returns the overrides as given, in order; a key of this project that
// the program does not read is refused with the nearest known key.
func applySets(config map[string]string, sets []string) ([]string, error) {
	var applied []string
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: want key=value", kv)
		}
		if !strings.Contains(k, ":") {
			k = projectName + ":" + k
		}
		short := strings.TrimPrefix(k, projectName+":")
		if k != "aws:region" && (short == k || !knownKey(short)) {
			return nil, fmt.Errorf("--set %s: unknown config key %s; %s", kv, short, suggestKey(short))
		}
		config[k] = v
		applied = append(applied, short+"="+v)
	}
	return applied, nil
}

// printPlanHelp writes plan's help: what it does, the flags, and every
// config key with its default and range (from configKeys).
func printPlanHelp(w io.Writer, fs *flag.FlagSet) error {
	var b strings.Builder
	b.WriteString(planUsage + "\n\n")
	b.WriteString("Runs this Pulumi program offline under mocks with a stack's config and prints\n" +
		"every resource it would declare. No AWS account, credentials, Docker or network:\n" +
		"ids, ARNs and URLs are placeholders the mocks make up.\n\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s\n      %s", strings.TrimSpace(f.Name+" "+name), use)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	b.WriteString("\nConfig keys (namespace " + configNamespace + "; set with `pulumi config set KEY VALUE`,\n" +
		"or here with --set KEY=VALUE; aws:region is also accepted):\n")
	for _, k := range configKeys {
		fmt.Fprintf(&b, "  %s (default %s; %s)\n      %s\n", k.Name, k.Default, k.Range, k.Meaning)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write help: %w", err)
	}
	return nil
}

// treeKeys are the inputs the readable plan shows per resource type.
var treeKeys = map[string][]string{
	"aws:ec2/vpc:Vpc":                                                      {"cidrBlock", "enableDnsHostnames", "enableDnsSupport"},
	"aws:ec2/subnet:Subnet":                                                {"availabilityZoneId", "cidrBlock", "mapPublicIpOnLaunch"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                                      {"serviceName", "vpcEndpointType"},
	"aws:ec2/routeTable:RouteTable":                                        {"routes"},
	"aws:ecs/cluster:Cluster":                                              {"settings"},
	"aws:ecs/taskDefinition:TaskDefinition":                                {"family", "cpu", "memory", "runtimePlatform"},
	"aws:ecs/service:Service":                                              {"desiredCount", "networkConfiguration", "deploymentCircuitBreaker"},
	"aws:ecr/repository:Repository":                                        {"imageScanningConfiguration", "forceDelete"},
	"docker:index/image:Image":                                             {"imageName", "build"},
	"aws:cloudwatch/logGroup:LogGroup":                                     {"name", "retentionInDays"},
	"aws:servicediscovery/httpNamespace:HttpNamespace":                     {"name"},
	"aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":         {"name"},
	"aws:servicediscovery/service:Service":                                 {"name", "dnsConfig"},
	"aws:apigatewayv2/integration:Integration":                             {"integrationType", "connectionType", "timeoutMilliseconds"},
	"aws:apigatewayv2/route:Route":                                         {"routeKey"},
	"aws:apigatewayv2/stage:Stage":                                         {"name", "defaultRouteSettings"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":            {"fromPort", "description"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":              {"fromPort", "cidrIpv4", "description"},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {"rules"},
	"aws:appautoscaling/target:Target":                                     {"minCapacity", "maxCapacity"},
	"aws:appautoscaling/policy:Policy":                                     {"policyType"},
}

// markPlaceholders finds the values the mocks made up: the string outputs
// of each resource that are not its inputs (ids, ARNs, URLs, generated
// names), except the region, which is real. Stack outputs made from them
// are placeholders too.
func markPlaceholders(res *planResult, region string) {
	if region == "" {
		region = mockRegion
	}
	res.placeholders = map[string]bool{}
	for _, r := range res.Resources {
		inputs := map[string]bool{}
		for _, v := range r.Inputs {
			if s, ok := v.(string); ok {
				inputs[s] = true
			}
		}
		r.Placeholders = nil
		for _, k := range slices.Sorted(maps.Keys(r.Outputs)) {
			s, ok := r.Outputs[k].(string)
			if _, isInput := r.Inputs[k]; isInput || !ok || s == "" || s == region || inputs[s] {
				continue
			}
			r.Placeholders = append(r.Placeholders, k)
			res.placeholders[s] = true
		}
	}
	res.PlaceholderOutputs = nil
	for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
		if s, ok := res.Outputs[k].(string); ok && res.isPlaceholder(s) {
			res.PlaceholderOutputs = append(res.PlaceholderOutputs, k)
		}
	}
}

// minEmbedded is the shortest made-up value looked for inside other
// strings: shorter ones (a 6-digit VPC link id) would match by chance.
const minEmbedded = 8

// isPlaceholder reports whether s is, or contains, a made-up value (an
// image name holds the made-up repository URL, a URL the made-up API id).
func (p *planResult) isPlaceholder(s string) bool {
	if p.placeholders[s] {
		return true
	}
	for v := range p.placeholders {
		if len(v) >= minEmbedded && strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// marked returns v with every made-up string s shown as "<s>".
func (p *planResult) marked(v any) any {
	switch v := v.(type) {
	case string:
		if p.isPlaceholder(v) {
			return "<" + v + ">"
		}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = p.marked(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = p.marked(e)
		}
		return out
	}
	return v
}

// compactJSON returns v as one line of JSON, with "<" and ">" as they are
// (json.Marshal escapes them for HTML).
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// printTree writes the plan's header (what the values are, the --set
// overrides in effect), then the resources as an indented tree with key
// settings, then the stack outputs. Made-up values are shown <like this>.
func printTree(w io.Writer, stack string, overrides []string, res *planResult) error {
	children := map[string][]*planResource{}
	for _, r := range res.Resources {
		children[r.Parent] = append(children[r.Parent], r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s (project %s): %d resources, planned offline under mocks\n", stack, projectName, len(res.Resources))
	b.WriteString("values in <angle brackets> are placeholders made up by the mocks (ids, ARNs, URLs);\n" +
		"AWS assigns the real ones at `pulumi up`\n")
	if len(overrides) > 0 {
		fmt.Fprintf(&b, "config: Pulumi.%s.yaml with --set %s\n", stack, strings.Join(overrides, " "))
	} else {
		fmt.Fprintf(&b, "config: Pulumi.%s.yaml (no --set overrides)\n", stack)
	}
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		for _, r := range children[parent] {
			fmt.Fprintf(&b, "%s%s  %s", indent, r.Name, r.Type)
			for _, k := range treeKeys[r.Type] {
				if v, ok := r.Inputs[k]; ok {
					fmt.Fprintf(&b, "  %s=%s", k, compactJSON(res.marked(v)))
				}
			}
			b.WriteString("\n")
			if r.URN != "" {
				walk(r.URN, indent+"  ")
			}
		}
	}
	walk("", "  ")
	b.WriteString("outputs:\n")
	for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
		fmt.Fprintf(&b, "  %s = %v\n", k, res.marked(res.Outputs[k]))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}
