package program_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"imagelabel/app/upload"
	"imagelabel/infra"
	"imagelabel/internal/plan"
	"imagelabel/internal/program"
)

// TestWiring checks that every reference between resources points at the
// right resource: the mocks give each resource distinct ids and ARNs, so a
// reference to the wrong one fails.
func TestWiring(t *testing.T) {
	p := model(t)

	vpc := one(t, p, typVpc, "net")
	cluster := one(t, p, typCluster, "cluster")
	httpNS := one(t, p, typHTTPNS, "cluster")
	disc := one(t, p, typSDService, "api")
	dnsNS := one(t, p, typDNSNS, "api")
	link := one(t, p, typVpcLink, "api")
	api := one(t, p, typAPI, "api")
	integ := one(t, p, typIntegration, "api")
	privSubnet := one(t, p, typSubnet, "net-private-0")
	pubSubnet := one(t, p, typSubnet, "net-public-0")
	sgLink := one(t, p, typSG, "sg-vpclink")
	sgUpload := one(t, p, typSG, "sg-upload")
	sgRekog := one(t, p, typSG, "sg-rekog")

	f := &wiringFixture{p: p, vpc: vpc, cluster: cluster, httpNS: httpNS, disc: disc, dnsNS: dnsNS, link: link, api: api, integ: integ, privSubnet: privSubnet, pubSubnet: pubSubnet, sgLink: sgLink, sgUpload: sgUpload, sgRekog: sgRekog}
	t.Run("network", func(t *testing.T) { testWiringNetwork(t, f) })
	t.Run("cluster and service connect", func(t *testing.T) { testWiringClusterAndServiceConnect(t, f) })
	t.Run("api", func(t *testing.T) { testWiringAPI(t, f) })
	t.Run("tasks", func(t *testing.T) { testWiringTasks(t, f) })
	t.Run("outputs", func(t *testing.T) { testWiringOutputs(t, f) })
	t.Run("components", func(t *testing.T) { testWiringComponents(t, f) })
}

// wiringFixture is what the parts of TestWiring share.
type wiringFixture struct {
	p          *plan.Result
	vpc        *plan.Resource
	cluster    *plan.Resource
	httpNS     *plan.Resource
	disc       *plan.Resource
	dnsNS      *plan.Resource
	link       *plan.Resource
	api        *plan.Resource
	integ      *plan.Resource
	privSubnet *plan.Resource
	pubSubnet  *plan.Resource
	sgLink     *plan.Resource
	sgUpload   *plan.Resource
	sgRekog    *plan.Resource
}

// testWiringNetwork is the "network" part of TestWiring.
func testWiringNetwork(t *testing.T, f *wiringFixture) {
	p, vpc, privSubnet, pubSubnet := f.p, f.vpc, f.privSubnet, f.pubSubnet
	for _, s := range p.Find(typSubnet) {
		if s.Inputs["vpcId"] != idOf(vpc) {
			t.Errorf("subnet %s vpcId = %v; want %s", s.Name, s.Inputs["vpcId"], idOf(vpc))
		}
	}
	igw := one(t, p, typIGW, "net")
	nat := one(t, p, typNAT, "net")
	eip := one(t, p, typEIP, "net-nat")
	if nat.Inputs["subnetId"] != idOf(pubSubnet) || nat.Inputs["allocationId"] != idOf(eip) {
		t.Errorf("NAT subnet/allocation = %v/%v; want public subnet %s and EIP %s", nat.Inputs["subnetId"], nat.Inputs["allocationId"], idOf(pubSubnet), idOf(eip))
	}
	pubRT := one(t, p, typRouteTable, "net-public")
	if got := get(t, pubRT.Inputs, "routes.0.gatewayId"); got != idOf(igw) {
		t.Errorf("public default route via %v; want IGW %s", got, idOf(igw))
	}
	privRT := one(t, p, typRouteTable, "net-private-0")
	if got := get(t, privRT.Inputs, "routes.0.natGatewayId"); got != idOf(nat) {
		t.Errorf("private default route via %v; want NAT %s", got, idOf(nat))
	}
	if has(privRT.Inputs, "routes.0.gatewayId") {
		t.Errorf("private route table routes to an internet gateway")
	}
	assoc := map[string]string{}
	for _, a := range p.Find(typRTAssoc) {
		assoc[a.Inputs["subnetId"].(string)] = a.Inputs["routeTableId"].(string)
	}
	if assoc[idOf(privSubnet)] != idOf(privRT) || assoc[idOf(pubSubnet)] != idOf(pubRT) {
		t.Errorf("route table associations = %v; want private->%s public->%s", assoc, idOf(privRT), idOf(pubRT))
	}
	ep := one(t, p, typEndpoint, "net-s3")
	if ep.Inputs["serviceName"] != "com.amazonaws.us-east-1.s3" || ep.Inputs["vpcEndpointType"] != "Gateway" {
		t.Errorf("S3 endpoint = %v %v", ep.Inputs["serviceName"], ep.Inputs["vpcEndpointType"])
	}
	if got := strs(t, ep.Inputs["routeTableIds"]); !reflect.DeepEqual(got, []string{idOf(privRT)}) {
		t.Errorf("S3 endpoint route tables = %v; want [%s]", got, idOf(privRT))
	}
	fl := one(t, p, typFlowLog, "net")
	flowGroup := one(t, p, typLogGroup, "net-flow")
	if fl.Inputs["vpcId"] != idOf(vpc) || fl.Inputs["logDestination"] != arnOf(flowGroup) ||
		fl.Inputs["iamRoleArn"] != arnOf(one(t, p, typRole, "net-flow")) || fl.Inputs["trafficType"] != "REJECT" ||
		fl.Inputs["logDestinationType"] != "cloud-watch-logs" {
		t.Errorf("flow log = %v; want REJECT records of %s to %s", fl.Inputs, idOf(vpc), arnOf(flowGroup))
	}
	flowPolicy := jsonField(t, one(t, p, typRolePolicy, "net-flow"), "policy")
	if got := get(t, flowPolicy, "Statement.0.Resource"); got != arnOf(flowGroup)+":*" {
		t.Errorf("flow log role writes to %v; want %s:*", got, arnOf(flowGroup))
	}
	flowTrust := jsonField(t, one(t, p, typRole, "net-flow"), "assumeRolePolicy")
	if get(t, flowTrust, "Statement.0.Principal.Service") != "vpc-flow-logs.amazonaws.com" ||
		get(t, flowTrust, "Statement.0.Condition.StringEquals.aws:SourceAccount") != plan.MockAccount {
		t.Errorf("flow log role trust = %v", flowTrust)
	}
	dsg := one(t, p, typDefaultSG, "net-default")
	if dsg.Inputs["vpcId"] != idOf(vpc) || has(dsg.Inputs, "ingress") || has(dsg.Inputs, "egress") {
		t.Errorf("default security group = %v; want the VPC's, with no rules", dsg.Inputs)
	}
	if vpc.Inputs["enableDnsSupport"] != true || vpc.Inputs["enableDnsHostnames"] != true {
		t.Errorf("VPC DNS support/hostnames = %v/%v", vpc.Inputs["enableDnsSupport"], vpc.Inputs["enableDnsHostnames"])
	}
}

// testWiringClusterAndServiceConnect is the "cluster and service connect" part of TestWiring.
func testWiringClusterAndServiceConnect(t *testing.T, f *wiringFixture) {
	p, cluster, httpNS := f.p, f.cluster, f.httpNS
	if got := get(t, cluster.Inputs, "serviceConnectDefaults.namespace"); got != arnOf(httpNS) {
		t.Errorf("cluster serviceConnectDefaults = %v; want %s", got, arnOf(httpNS))
	}
	// The stack ("test") is part of every namespace name.
	if httpNS.Inputs["name"] != "test.imagelabel.internal" {
		t.Errorf("namespace = %v", httpNS.Inputs["name"])
	}
	for _, name := range []string{"upload", "rekog"} {
		s := one(t, p, typService, name)
		if s.Inputs["cluster"] != arnOf(cluster) {
			t.Errorf("%s cluster = %v; want %s", name, s.Inputs["cluster"], arnOf(cluster))
		}
		if got := get(t, s.Inputs, "serviceConnectConfiguration.namespace"); got != arnOf(httpNS) {
			t.Errorf("%s service connect namespace = %v; want %s", name, got, arnOf(httpNS))
		}
		if get(t, s.Inputs, "serviceConnectConfiguration.enabled") != true {
			t.Errorf("%s service connect not enabled", name)
		}
		if got := get(t, s.Inputs, "serviceConnectConfiguration.logConfiguration.options.awslogs-group"); got != one(t, p, typLogGroup, name).Outputs["name"] {
			t.Errorf("%s proxy logs to %v", name, got)
		}
		td := one(t, p, typTaskDef, name)
		if s.Inputs["taskDefinition"] != arnOf(td) {
			t.Errorf("%s taskDefinition = %v; want %s", name, s.Inputs["taskDefinition"], arnOf(td))
		}
	}
	rekog := one(t, p, typService, "rekog")
	scs := get(t, rekog.Inputs, "serviceConnectConfiguration.services.0").(map[string]any)
	c := container(t, p, "rekog")
	if portName := get(t, c, "portMappings.0.name"); scs["portName"] != portName || portName != "rekog" {
		t.Errorf("rekog portName = %v; port mapping name %v", scs["portName"], portName)
	}
	if scs["discoveryName"] != "rekog" {
		t.Errorf("rekog discoveryName = %v", scs["discoveryName"])
	}
	if got := get(t, scs, "clientAlias.0.dnsName"); got != "rekog.test.imagelabel.internal" {
		t.Errorf("rekog alias dnsName = %v", got)
	}
	if got := get(t, scs, "clientAlias.0.port"); got != 9090.0 {
		t.Errorf("rekog alias port = %v", got)
	}
	per := get(t, scs, "timeout.perRequestTimeoutSeconds").(float64)
	idle := get(t, scs, "timeout.idleTimeoutSeconds").(float64)
	// upload's own rekog deadline is 20 s; the proxy must not cut it
	// short, and must answer before API Gateway's 29 s.
	if per < 20 || per*1000 >= 29000 || idle < per {
		t.Errorf("rekog timeouts per-request %v idle %v: want 20 <= per < 29 (integration timeout), idle >= per", per, idle)
	}
	upload := one(t, p, typService, "upload")
	if has(upload.Inputs, "serviceConnectConfiguration.services") {
		t.Errorf("upload publishes Service Connect services; want client only")
	}
	env := envOf(t, container(t, p, "upload"))
	if env["REKOG_URL"] != "http://rekog.test.imagelabel.internal:9090" {
		t.Errorf("REKOG_URL = %q", env["REKOG_URL"])
	}
	if !slices.Contains(upload.DependsOn, rekog.URN) {
		t.Errorf("upload service dependencies %v do not include rekog service %s", upload.DependsOn, rekog.URN)
	}
}

// testWiringAPI is the "api" part of TestWiring.
func testWiringAPI(t *testing.T, f *wiringFixture) {
	p, vpc, disc, dnsNS, link, api, integ, privSubnet, sgLink := f.p, f.vpc, f.disc, f.dnsNS, f.link, f.api, f.integ, f.privSubnet, f.sgLink
	upload := one(t, p, typService, "upload")
	if got := get(t, upload.Inputs, "serviceRegistries.registryArn"); got != arnOf(disc) {
		t.Errorf("upload serviceRegistries = %v; want %s", got, arnOf(disc))
	}
	if get(t, upload.Inputs, "serviceRegistries.containerName") != "upload" || get(t, upload.Inputs, "serviceRegistries.containerPort") != 8080.0 {
		t.Errorf("upload registry container = %v", upload.Inputs["serviceRegistries"])
	}
	if get(t, disc.Inputs, "dnsConfig.namespaceId") != idOf(dnsNS) || get(t, disc.Inputs, "dnsConfig.dnsRecords.0.type") != "SRV" {
		t.Errorf("discovery dnsConfig = %v; want SRV in %s", disc.Inputs["dnsConfig"], idOf(dnsNS))
	}
	if disc.Inputs["forceDestroy"] != true {
		t.Errorf("discovery service forceDestroy = %v", disc.Inputs["forceDestroy"])
	}
	if dnsNS.Inputs["vpc"] != idOf(vpc) {
		t.Errorf("private DNS namespace vpc = %v", dnsNS.Inputs["vpc"])
	}
	if integ.Inputs["integrationUri"] != arnOf(disc) || integ.Inputs["connectionId"] != idOf(link) || integ.Inputs["apiId"] != idOf(api) {
		t.Errorf("integration uri/connection/api = %v/%v/%v", integ.Inputs["integrationUri"], integ.Inputs["connectionId"], integ.Inputs["apiId"])
	}
	if got := strs(t, link.Inputs["subnetIds"]); !reflect.DeepEqual(got, []string{idOf(privSubnet)}) {
		t.Errorf("vpc link subnets = %v; want private %s", got, idOf(privSubnet))
	}
	if got := strs(t, link.Inputs["securityGroupIds"]); !reflect.DeepEqual(got, []string{idOf(sgLink)}) {
		t.Errorf("vpc link SGs = %v; want %s", got, idOf(sgLink))
	}
	var keys []string
	for _, r := range p.Find(typRoute) {
		keys = append(keys, r.Inputs["routeKey"].(string))
		if r.Inputs["target"] != "integrations/"+idOf(integ) || r.Inputs["apiId"] != idOf(api) {
			t.Errorf("route %v target %v api %v", r.Inputs["routeKey"], r.Inputs["target"], r.Inputs["apiId"])
		}
	}
	sort.Strings(keys)
	want := []string{"GET /", "GET /assets/{proxy+}", "GET /getInfo", "GET /healthz", "GET /labels/{proxy+}", "POST /upload"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("routes = %v; want %v", keys, want)
	}
	stage := one(t, p, typStage, "api")
	if stage.Inputs["apiId"] != idOf(api) || stage.Inputs["name"] != "$default" || stage.Inputs["autoDeploy"] != true {
		t.Errorf("stage = %v", stage.Inputs)
	}
	if got := get(t, stage.Inputs, "accessLogSettings.destinationArn"); got != arnOf(one(t, p, typLogGroup, "api-access")) {
		t.Errorf("access logs to %v", got)
	}
	if p.Outputs["apiUrl"] != stage.Outputs["invokeUrl"] {
		t.Errorf("apiUrl = %v; want stage invoke URL %v", p.Outputs["apiUrl"], stage.Outputs["invokeUrl"])
	}
}

// testWiringTasks is the "tasks" part of TestWiring.
func testWiringTasks(t *testing.T, f *wiringFixture) {
	p, privSubnet, sgUpload, sgRekog := f.p, f.privSubnet, f.sgUpload, f.sgRekog
	for _, tc := range []struct{ name, sg string }{{"upload", idOf(sgUpload)}, {"rekog", idOf(sgRekog)}} {
		s := one(t, p, typService, tc.name)
		if got := strs(t, get(t, s.Inputs, "networkConfiguration.subnets")); !reflect.DeepEqual(got, []string{idOf(privSubnet)}) {
			t.Errorf("%s subnets = %v; want private only", tc.name, got)
		}
		if got := strs(t, get(t, s.Inputs, "networkConfiguration.securityGroups")); !reflect.DeepEqual(got, []string{tc.sg}) {
			t.Errorf("%s security groups = %v; want [%s]", tc.name, got, tc.sg)
		}
		td := one(t, p, typTaskDef, tc.name)
		if td.Inputs["taskRoleArn"] != arnOf(one(t, p, typRole, tc.name+"-task")) {
			t.Errorf("%s task role = %v", tc.name, td.Inputs["taskRoleArn"])
		}
		if td.Inputs["executionRoleArn"] != arnOf(one(t, p, typRole, tc.name+"-exec")) {
			t.Errorf("%s execution role = %v", tc.name, td.Inputs["executionRoleArn"])
		}
		// Tasks must not start before their roles' permissions exist.
		for _, pol := range []string{tc.name + "-task", tc.name + "-exec"} {
			if u := one(t, p, typRolePolicy, pol).URN; !slices.Contains(td.DependsOn, u) {
				t.Errorf("%s task definition dependencies %v do not include role policy %s", tc.name, td.DependsOn, u)
			}
		}
		c := container(t, p, tc.name)
		img := one(t, p, typImage, tc.name)
		if c["image"] != img.Outputs["repoDigest"] || !strings.Contains(c["image"].(string), "@sha256:") {
			t.Errorf("%s image = %v; want digest %v", tc.name, c["image"], img.Outputs["repoDigest"])
		}
		if want := p.Outputs[tc.name+"Image"]; c["image"] != want {
			t.Errorf("%sImage output = %v; task runs %v", tc.name, want, c["image"])
		}
		lg := one(t, p, typLogGroup, tc.name)
		if got := get(t, c, "logConfiguration.options.awslogs-group"); got != lg.Outputs["name"] || p.Outputs[tc.name+"LogGroup"] != lg.Outputs["name"] {
			t.Errorf("%s logs to %v, output %v; want %v", tc.name, got, p.Outputs[tc.name+"LogGroup"], lg.Outputs["name"])
		}
		// The execution role may pull only this service's image and write only its logs.
		pol := jsonField(t, one(t, p, typRolePolicy, tc.name+"-exec"), "policy")
		repo := one(t, p, typRepo, tc.name)
		if got := get(t, pol, "Statement.1.Resource"); got != arnOf(repo) {
			t.Errorf("%s execution role pulls from %v; want %s", tc.name, got, arnOf(repo))
		}
		if got := get(t, pol, "Statement.2.Resource"); got != arnOf(lg)+":*" {
			t.Errorf("%s execution role logs to %v; want %s:*", tc.name, got, arnOf(lg))
		}
		if !strings.HasPrefix(img.Inputs["imageName"].(string), repo.Outputs["repositoryUrl"].(string)+":") {
			t.Errorf("%s image name %v not in repo %v", tc.name, img.Inputs["imageName"], repo.Outputs["repositoryUrl"])
		}
		if get(t, img.Inputs, "registry.server") != repo.Outputs["repositoryUrl"] || get(t, img.Inputs, "registry.password") != "[secret]" {
			t.Errorf("%s registry = %v", tc.name, img.Inputs["registry"])
		}
		env := envOf(t, c)
		if env["BUCKET"] != one(t, p, typBucket, "images").Outputs["bucket"] || env["AWS_REGION"] != "us-east-1" {
			t.Errorf("%s env BUCKET/AWS_REGION = %q/%q", tc.name, env["BUCKET"], env["AWS_REGION"])
		}
	}
	if got := envOf(t, container(t, p, "upload"))["PORT"]; got != "8080" {
		t.Errorf("upload PORT = %q", got)
	}
	if got := envOf(t, container(t, p, "rekog"))["PORT"]; got != "9090" {
		t.Errorf("rekog PORT = %q", got)
	}
	if _, ok := envOf(t, container(t, p, "rekog"))["REKOG_URL"]; ok {
		t.Errorf("rekog has REKOG_URL")
	}
}

// testWiringOutputs is the "outputs" part of TestWiring.
func testWiringOutputs(t *testing.T, f *wiringFixture) {
	p, cluster := f.p, f.cluster
	want := []string{"apiLogGroup", "apiUrl", "bucketName", "clusterName", "region", "rekogImage", "rekogLogGroup", "serviceConnectNamespace", "uploadImage", "uploadLogGroup"}
	got := keysOf(p.Outputs)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outputs = %v; want %v", got, want)
	}
	checks := map[string]any{
		"bucketName":              one(t, p, typBucket, "images").Outputs["bucket"],
		"clusterName":             cluster.Outputs["name"],
		"region":                  "us-east-1",
		"serviceConnectNamespace": "test.imagelabel.internal",
		"apiLogGroup":             one(t, p, typLogGroup, "api-access").Outputs["name"],
	}
	for k, v := range checks {
		if p.Outputs[k] != v {
			t.Errorf("output %s = %v; want %v", k, p.Outputs[k], v)
		}
	}
}

// testWiringComponents is the "components" part of TestWiring.
func testWiringComponents(t *testing.T, f *wiringFixture) {
	p := f.p
	for _, r := range p.Resources {
		if !r.Custom {
			if !strings.HasPrefix(r.Type, "imagelabel:") || strings.Count(r.Type, ":") != 2 {
				t.Errorf("component type %q is not imagelabel:<module>:<Type>", r.Type)
			}
			continue
		}
		if r.Parent == "" {
			t.Errorf("%s %s has no parent component", r.Type, r.Name)
		} else if par := p.ByURN(r.Parent); par == nil || par.Custom {
			t.Errorf("%s %s parent %s is not a component", r.Type, r.Name, r.Parent)
		} else if !strings.HasPrefix(r.Name, par.Name) {
			t.Errorf("%s %s: name not derived from parent %s", r.Type, r.Name, par.Name)
		}
	}
}

// TestSecurity checks the security properties a reviewer would.
func TestSecurity(t *testing.T) {
	p := model(t)
	sgLink := idOf(one(t, p, typSG, "sg-vpclink"))
	sgUpload := idOf(one(t, p, typSG, "sg-upload"))
	sgRekog := idOf(one(t, p, typSG, "sg-rekog"))

	f := &securityFixture{p: p, sgLink: sgLink, sgUpload: sgUpload, sgRekog: sgRekog}
	t.Run("security groups", func(t *testing.T) { testSecuritySecurityGroups(t, f) })
	t.Run("no public exposure of tasks", func(t *testing.T) { testSecurityNoPublicExposureOfTasks(t, f) })
	t.Run("iam", func(t *testing.T) { testSecurityIAM(t, f) })
	t.Run("bucket", func(t *testing.T) { testSecurityBucket(t, f) })
	t.Run("containers", func(t *testing.T) { testSecurityContainers(t, f) })
}

// securityFixture is what the parts of TestSecurity share.
type securityFixture struct {
	p        *plan.Result
	sgLink   string
	sgUpload string
	sgRekog  string
}

// testSecuritySecurityGroups is the "security groups" part of TestSecurity.
func testSecuritySecurityGroups(t *testing.T, f *securityFixture) {
	p, sgLink, sgUpload, sgRekog := f.p, f.sgLink, f.sgUpload, f.sgRekog
	type rule struct {
		group, peer, cidr string
		port              float64
	}
	// Registration order is concurrent; compare sorted rule sets.
	sorted := func(rs []rule) []rule {
		sort.Slice(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			return a.group+a.peer+a.cidr < b.group+b.peer+b.cidr || (a.group+a.peer+a.cidr == b.group+b.peer+b.cidr && a.port < b.port)
		})
		return rs
	}
	collect := func(typ string) []rule {
		var out []rule
		for _, r := range p.Find(typ) {
			x := rule{group: r.Inputs["securityGroupId"].(string), port: r.Inputs["fromPort"].(float64)}
			if r.Inputs["toPort"] != r.Inputs["fromPort"] || r.Inputs["ipProtocol"] != "tcp" {
				t.Errorf("%s %s: want one tcp port, got %v-%v %v", typ, r.Name, r.Inputs["fromPort"], r.Inputs["toPort"], r.Inputs["ipProtocol"])
			}
			if v, ok := r.Inputs["referencedSecurityGroupId"].(string); ok {
				x.peer = v
			}
			if v, ok := r.Inputs["cidrIpv4"].(string); ok {
				x.cidr = v
			}
			if v, ok := r.Inputs["cidrIpv6"].(string); ok {
				x.cidr = v
			}
			out = append(out, x)
		}
		return sorted(out)
	}
	ingress := collect(typIngress)
	for _, r := range ingress {
		if r.cidr != "" || r.peer == "" {
			t.Errorf("ingress to %s from cidr %q: want only security-group sources", r.group, r.cidr)
		}
	}
	wantIn := sorted([]rule{{group: sgUpload, peer: sgLink, port: 8080}, {group: sgRekog, peer: sgUpload, port: 9090}})
	if !reflect.DeepEqual(ingress, wantIn) {
		t.Errorf("ingress = %+v; want %+v", ingress, wantIn)
	}
	wantOut := sorted([]rule{
		{group: sgLink, peer: sgUpload, port: 8080},
		{group: sgUpload, peer: sgRekog, port: 9090},
		{group: sgUpload, cidr: "0.0.0.0/0", port: 443},
		{group: sgRekog, cidr: "0.0.0.0/0", port: 443},
	})
	if got := collect(typEgress); !reflect.DeepEqual(got, wantOut) {
		t.Errorf("egress = %+v; want %+v", got, wantOut)
	}
	for _, sg := range p.Find(typSG) {
		if has(sg.Inputs, "ingress") || has(sg.Inputs, "egress") {
			t.Errorf("security group %s has inline rules %v %v", sg.Name, sg.Inputs["ingress"], sg.Inputs["egress"])
		}
	}
}

// testSecurityNoPublicExposureOfTasks is the "no public exposure of tasks" part of TestSecurity.
func testSecurityNoPublicExposureOfTasks(t *testing.T, f *securityFixture) {
	p := f.p
	for _, s := range p.Find(typService) {
		if get(t, s.Inputs, "networkConfiguration.assignPublicIp") != false {
			t.Errorf("%s assignPublicIp = %v", s.Name, get(t, s.Inputs, "networkConfiguration.assignPublicIp"))
		}
	}
	for _, s := range p.Find(typSubnet) {
		if s.Inputs["mapPublicIpOnLaunch"] != false {
			t.Errorf("subnet %s maps public IPs", s.Name)
		}
	}
}

// testSecurityIAM is the "iam" part of TestSecurity.
func testSecurityIAM(t *testing.T, f *securityFixture) {
	p := f.p
	bucketArn := one(t, p, typBucket, "images").Outputs["arn"].(string)
	type stmt struct {
		actions  []string
		resource string
	}
	statements := func(name string) []stmt {
		pol := jsonField(t, one(t, p, typRolePolicy, name), "policy").(map[string]any)
		var out []stmt
		for _, s := range pol["Statement"].([]any) {
			m := s.(map[string]any)
			if m["Effect"] != "Allow" {
				t.Errorf("%s: effect %v", name, m["Effect"])
			}
			var acts []string
			switch a := m["Action"].(type) {
			case string:
				acts = []string{a}
			case []any:
				acts = strs(t, a)
			}
			sort.Strings(acts)
			out = append(out, stmt{acts, m["Resource"].(string)})
		}
		return out
	}
	wantUpload := []stmt{
		{[]string{"s3:PutObject"}, bucketArn + "/uploads/*"},
	}
	if got := statements("upload-task"); !reflect.DeepEqual(got, wantUpload) {
		t.Errorf("upload task policy = %+v; want %+v", got, wantUpload)
	}
	wantRekog := []stmt{
		{[]string{"s3:GetObject"}, bucketArn + "/uploads/*"},
		{[]string{"rekognition:DetectLabels"}, "*"},
	}
	if got := statements("rekog-task"); !reflect.DeepEqual(got, wantRekog) {
		t.Errorf("rekog task policy = %+v; want %+v", got, wantRekog)
	}
	for _, r := range p.Find(typRole) {
		if r.Name == "net-flow" { // VPC flow logs; checked in TestWiring
			continue
		}
		trust := jsonField(t, r, "assumeRolePolicy")
		if got := get(t, trust, "Statement.0.Principal.Service"); got != "ecs-tasks.amazonaws.com" {
			t.Errorf("role %s trusts %v", r.Name, got)
		}
		if got := get(t, trust, "Statement.0.Condition.StringEquals.aws:SourceAccount"); got != plan.MockAccount {
			t.Errorf("role %s aws:SourceAccount = %v", r.Name, got)
		}
		if strings.HasSuffix(r.Name, "-task") {
			if got := get(t, trust, "Statement.0.Condition.ArnLike.aws:SourceArn"); got != "arn:aws:ecs:us-east-1:"+plan.MockAccount+":*" {
				t.Errorf("role %s aws:SourceArn = %v", r.Name, got)
			}
		}
		if len(get(t, trust, "Statement").([]any)) != 1 {
			t.Errorf("role %s: want one trust statement", r.Name)
		}
	}
	if n := len(p.Find(typRole)); n != 5 {
		t.Errorf("%d roles; want 5 (task and execution role per service, flow logs)", n)
	}
	for _, r := range p.Find(typRolePolicy) {
		pol := jsonField(t, r, "policy").(map[string]any)
		for _, s := range pol["Statement"].([]any) {
			m := s.(map[string]any)
			acts := m["Action"]
			if a, ok := acts.(string); ok {
				acts = []any{a}
			}
			for _, a := range acts.([]any) {
				if strings.Contains(a.(string), "*") {
					t.Errorf("%s grants wildcard action %v", r.Name, a)
				}
			}
			if m["Resource"] == "*" && !slices.Contains([]any{"rekognition:DetectLabels", "ecr:GetAuthorizationToken"}, m["Action"]) {
				t.Errorf("%s grants %v on *", r.Name, m["Action"])
			}
		}
	}
}

// testSecurityBucket is the "bucket" part of TestSecurity.
func testSecurityBucket(t *testing.T, f *securityFixture) {
	p := f.p
	b := one(t, p, typBucket, "images")
	name := b.Outputs["bucket"]
	if b.Inputs["forceDestroy"] != true {
		t.Errorf("bucket forceDestroy = %v", b.Inputs["forceDestroy"])
	}
	pab := one(t, p, typPAB, "images")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab.Inputs[k] != true {
			t.Errorf("public access block %s = %v", k, pab.Inputs[k])
		}
	}
	for _, typ := range []string{typPAB, typOwnership, typSSE, typLifecycle, typBucketPol} {
		if r := one(t, p, typ, "images"); r.Inputs["bucket"] != name {
			t.Errorf("%s bucket = %v; want %v", typ, r.Inputs["bucket"], name)
		}
	}
	if got := get(t, one(t, p, typOwnership, "images").Inputs, "rule.objectOwnership"); got != "BucketOwnerEnforced" {
		t.Errorf("object ownership = %v", got)
	}
	if got := get(t, one(t, p, typSSE, "images").Inputs, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"); got != "AES256" {
		t.Errorf("SSE = %v", got)
	}
	pol := jsonField(t, one(t, p, typBucketPol, "images"), "policy")
	st := get(t, pol, "Statement.0").(map[string]any)
	arn := b.Outputs["arn"].(string)
	if st["Effect"] != "Deny" || st["Principal"] != "*" || st["Action"] != "s3:*" ||
		get(t, st, "Condition.Bool.aws:SecureTransport") != "false" ||
		!reflect.DeepEqual(strs(t, st["Resource"]), []string{arn, arn + "/*"}) {
		t.Errorf("bucket policy statement = %v; want deny s3:* without TLS on bucket and objects", st)
	}
}

// testSecurityContainers is the "containers" part of TestSecurity.
func testSecurityContainers(t *testing.T, f *securityFixture) {
	p := f.p
	for _, name := range []string{"upload", "rekog"} {
		c := container(t, p, name)
		if c["user"] != "65532:65532" || c["privileged"] == true {
			t.Errorf("%s user %v privileged %v; want non-root 65532", name, c["user"], c["privileged"])
		}
		if got := strs(t, get(t, c, "linuxParameters.capabilities.drop")); !reflect.DeepEqual(got, []string{"ALL"}) {
			t.Errorf("%s drops capabilities %v; want ALL", name, got)
		}
		if c["readonlyRootFilesystem"] != true {
			t.Errorf("%s readonlyRootFilesystem = %v", name, c["readonlyRootFilesystem"])
		}
		if got := strs(t, get(t, c, "healthCheck.command")); !reflect.DeepEqual(got, []string{"CMD", "/" + name, "-healthcheck"}) {
			t.Errorf("%s health check = %v", name, got)
		}
		if st := c["stopTimeout"].(float64); st <= 25 || st > 120 {
			t.Errorf("%s stopTimeout = %v; want more than the services' 25 s drain, at most Fargate's 120 s", name, st)
		}
		if get(t, c, "portMappings.0.appProtocol") != "http" {
			t.Errorf("%s port mapping appProtocol = %v", name, get(t, c, "portMappings.0.appProtocol"))
		}
	}
	integ := one(t, p, typIntegration, "api")
	if ms := integ.Inputs["timeoutMilliseconds"].(float64); ms < 50 || ms >= 30000 {
		t.Errorf("integration timeout %v ms; HTTP APIs allow 50..30000", ms)
	}
	for k, v := range map[string]any{"integrationType": "HTTP_PROXY", "integrationMethod": "ANY", "connectionType": "VPC_LINK", "payloadFormatVersion": "1.0"} {
		if integ.Inputs[k] != v {
			t.Errorf("integration %s = %v; want %v", k, integ.Inputs[k], v)
		}
	}
	if got := get(t, integ.Inputs, "requestParameters").(map[string]any)["overwrite:header.X-Request-Id"]; got != "$context.requestId" {
		t.Errorf("X-Request-Id mapping = %v", got)
	}
	for _, r := range p.Find(typRepo) {
		if get(t, r.Inputs, "imageScanningConfiguration.scanOnPush") != true || r.Inputs["forceDelete"] != true {
			t.Errorf("repo %s scan/forceDelete = %v/%v", r.Name, r.Inputs["imageScanningConfiguration"], r.Inputs["forceDelete"])
		}
	}
	for _, lp := range p.Find(typRepoPolicy) {
		rule := get(t, jsonField(t, lp, "policy"), "rules.0").(map[string]any)
		if get(t, rule, "selection.countType") != "imageCountMoreThan" || get(t, rule, "action.type") != "expire" {
			t.Errorf("lifecycle %s = %v", lp.Name, rule)
		}
		if lp.Inputs["repository"] != one(t, p, typRepo, lp.Name).Outputs["name"] {
			t.Errorf("lifecycle %s on %v", lp.Name, lp.Inputs["repository"])
		}
	}
}

// TestIntegrationTimeoutCoversUploadBudget keeps API Gateway from cutting
// upload short: upload's own deadlines must fire first, so the client gets
// upload's answer (with the key of a stored image), not API Gateway's bare 504.
func TestIntegrationTimeoutCoversUploadBudget(t *testing.T) {
	integration := time.Duration(infra.IntegrationTimeoutMillis) * time.Millisecond
	if upload.Budget >= integration {
		t.Errorf("upload.Budget = %v; want under the integration timeout %v", upload.Budget, integration)
	}
	if got := time.Duration(program.RekogPerRequestTimeout) * time.Second; got >= integration {
		t.Errorf("rekog Service Connect per-request timeout = %v; want under the integration timeout %v", got, integration)
	}
}

// TestRoutesMatchUpload keeps the API's routes and upload's mux in step, one
// for one: a route only upload has would be unreachable in AWS, one only the
// API has would answer upload's 404.
func TestRoutesMatchUpload(t *testing.T) {
	// ServeMux to API Gateway route syntax: "{$}" anchors the root, a
	// trailing "/" or a "{name...}" wildcard is a greedy {proxy+}.
	toRouteKey := func(p string) string {
		p = strings.TrimSuffix(p, "{$}")
		if i := strings.Index(p, "{"); i >= 0 && strings.HasSuffix(p, "...}") {
			return p[:i] + "{proxy+}"
		}
		if strings.HasSuffix(p, "/") && !strings.HasSuffix(p, " /") {
			return p + "{proxy+}"
		}
		return p
	}
	var fromUpload []string
	for _, p := range upload.Patterns() {
		fromUpload = append(fromUpload, toRouteKey(p))
	}
	api := slices.Clone(infra.Routes)
	sort.Strings(fromUpload)
	sort.Strings(api)
	if !slices.Equal(fromUpload, api) {
		t.Errorf("API routes %v; upload serves %v", api, fromUpload)
	}
}
