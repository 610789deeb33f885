package program_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"imagelabel/infra"
	"imagelabel/internal/plan"
)

const (
	typInstance = "aws:ec2/instance:Instance"
	typCCP      = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
	typBudget   = "aws:budgets/budget:Budget"
)

// awsServicesOfTasks are the AWS endpoints every task must reach: the image
// pull (ECR API, ECR Docker, S3 for the layers), its logs, and the code's
// own calls (S3, Rekognition).
var awsServicesOfTasks = []string{"ecr.api", "ecr.dkr", "s3", "logs", "rekognition"}

// egressPath says how a task in subnet reaches the AWS service svc over
// HTTPS in plan p, or "" when it cannot. It follows the same wiring AWS
// would: the subnet's route table, the S3 gateway endpoint's route tables,
// NAT gateway or NAT instance (and their own subnet's route to the internet
// gateway, Elastic IP, security group), or an interface endpoint with
// private DNS in the subnet whose security group admits 443 from the VPC.
func egressPath(t *testing.T, p *plan.Result, subnet, svc string) string {
	t.Helper()
	rtOf := func(subnet string) *plan.Resource {
		for _, a := range p.Find(typRTAssoc) {
			if a.Inputs["subnetId"] == subnet {
				for _, rt := range p.Find(typRouteTable) {
					if idOf(rt) == a.Inputs["routeTableId"] {
						return rt
					}
				}
			}
		}
		t.Fatalf("subnet %s has no route table", subnet)
		return nil
	}
	rt := rtOf(subnet)
	for _, ep := range p.Find(typEndpoint) {
		if ep.Inputs["serviceName"] != "com.amazonaws.us-east-1."+svc {
			continue
		}
		switch ep.Inputs["vpcEndpointType"] {
		case "Gateway":
			if slices.Contains(strs(t, ep.Inputs["routeTableIds"]), idOf(rt)) {
				return "gateway endpoint"
			}
		case "Interface":
			if ep.Inputs["privateDnsEnabled"] == true && slices.Contains(strs(t, ep.Inputs["subnetIds"]), subnet) &&
				admits443FromVPC(t, p, strs(t, ep.Inputs["securityGroupIds"])) {
				return "interface endpoint"
			}
		}
	}
	routes, _ := rt.Inputs["routes"].([]any)
	for _, r := range routes {
		route := r.(map[string]any)
		if route["cidrBlock"] != "0.0.0.0/0" {
			continue
		}
		for _, nat := range p.Find(typNAT) {
			if route["natGatewayId"] == idOf(nat) && toInternet(t, p, rtOf(nat.Inputs["subnetId"].(string))) {
				return "NAT gateway"
			}
		}
		for _, in := range p.Find(typInstance) {
			if route["networkInterfaceId"] != in.Outputs["primaryNetworkInterfaceId"] || in.Inputs["sourceDestCheck"] != false {
				continue
			}
			hasEIP := slices.ContainsFunc(p.Find(typEIP), func(e *plan.Resource) bool { return e.Inputs["instance"] == idOf(in) })
			if hasEIP && toInternet(t, p, rtOf(in.Inputs["subnetId"].(string))) && admits443FromVPC(t, p, strs(t, in.Inputs["vpcSecurityGroupIds"])) {
				return "NAT instance"
			}
		}
	}
	return ""
}

// toInternet reports whether a route table sends 0.0.0.0/0 to an internet
// gateway.
func toInternet(t *testing.T, p *plan.Result, rt *plan.Resource) bool {
	routes, _ := rt.Inputs["routes"].([]any)
	for _, r := range routes {
		route := r.(map[string]any)
		for _, igw := range p.Find(typIGW) {
			if route["cidrBlock"] == "0.0.0.0/0" && route["gatewayId"] == igw.Outputs["id"] {
				return true
			}
		}
	}
	return false
}

// admits443FromVPC reports whether one of the groups admits TCP 443 from
// the VPC's CIDR (the only range it may admit).
func admits443FromVPC(t *testing.T, p *plan.Result, groups []string) bool {
	ok := false
	for _, r := range p.Find(typIngress) {
		if !slices.Contains(groups, r.Inputs["securityGroupId"].(string)) {
			continue
		}
		if r.Inputs["cidrIpv4"] != "10.0.0.0/16" {
			t.Errorf("ingress rule %s admits %v; want only the VPC CIDR", r.Name, r.Inputs["cidrIpv4"])
			continue
		}
		if r.Inputs["ipProtocol"] == "tcp" && plan.Num(r.Inputs["fromPort"]) <= 443 && plan.Num(r.Inputs["toPort"]) >= 443 {
			ok = true
		}
	}
	return ok
}

// TestNATModesKeepTasksConnected: in every NAT mode and AZ count, every
// task of every service reaches each AWS service it needs, by the path the
// mode promises, and its security groups let HTTPS out.
func TestNATModesKeepTasksConnected(t *testing.T) {
	want := map[string]string{"gateway": "NAT gateway", "instance": "NAT instance", "endpoints": "interface endpoint"}
	for _, mode := range infra.NATModes {
		for _, azs := range []string{"1", "2"} {
			p := model(t, "natMode="+mode, "azCount="+azs)
			services := p.Find(typService)
			if len(services) != 2 {
				t.Fatalf("natMode=%s: %d ECS services; want 2", mode, len(services))
			}
			for _, s := range services {
				groups := strs(t, get(t, s.Inputs, "networkConfiguration.securityGroups"))
				httpsOut := slices.ContainsFunc(p.Find(typEgress), func(r *plan.Resource) bool {
					return slices.Contains(groups, r.Inputs["securityGroupId"].(string)) && r.Inputs["cidrIpv4"] == "0.0.0.0/0" && plan.Num(r.Inputs["fromPort"]) == 443
				})
				if !httpsOut {
					t.Errorf("natMode=%s: service %s has no HTTPS egress", mode, s.Name)
				}
				for _, subnet := range strs(t, get(t, s.Inputs, "networkConfiguration.subnets")) {
					for _, svc := range awsServicesOfTasks {
						got := egressPath(t, p, subnet, svc)
						wantPath := want[mode]
						if svc == "s3" {
							wantPath = "gateway endpoint"
						}
						if got != wantPath {
							t.Errorf("natMode=%s azCount=%s: %s in %s reaches %s by %q; want %q", mode, azs, s.Name, subnet, svc, got, wantPath)
						}
					}
				}
			}
		}
	}
}

// TestNATModeResources: each mode declares its egress and nothing of the
// others'.
func TestNATModeResources(t *testing.T) {
	count := func(p *plan.Result, typ string) int { return len(p.Find(typ)) }
	interfaces := func(p *plan.Result) int {
		n := 0
		for _, ep := range p.Find(typEndpoint) {
			if ep.Inputs["vpcEndpointType"] == "Interface" {
				n++
			}
		}
		return n
	}

	gw := model(t, "natMode=gateway")
	if count(gw, typNAT) != 1 || count(gw, typInstance) != 0 || interfaces(gw) != 0 || count(gw, typEIP) != 1 {
		t.Errorf("gateway: %d NAT gateways, %d instances, %d interface endpoints, %d EIPs; want 1, 0, 0, 1",
			count(gw, typNAT), count(gw, typInstance), interfaces(gw), count(gw, typEIP))
	}

	in := model(t, "natMode=instance", "azCount=3")
	if count(in, typNAT) != 0 || count(in, typInstance) != 1 || interfaces(in) != 0 || count(in, typEIP) != 1 {
		t.Fatalf("instance: %d NAT gateways, %d instances, %d interface endpoints, %d EIPs; want 0, 1, 0, 1",
			count(in, typNAT), count(in, typInstance), interfaces(in), count(in, typEIP))
	}
	inst := one(t, in, typInstance, "net-nat")
	if inst.Inputs["subnetId"] != one(t, in, typSubnet, "net-public-0").Outputs["id"] {
		t.Errorf("NAT instance in %v; want the first public subnet", inst.Inputs["subnetId"])
	}
	if inst.Inputs["instanceType"] != infra.NATInstanceType || !strings.HasPrefix(infra.NATInstanceType, "t4g.") {
		t.Errorf("NAT instance type %v; want the smallest Graviton type", inst.Inputs["instanceType"])
	}
	// The AMI is the one the SSM parameter names, not a literal.
	if want := "ami-0" + infra.ShortHash(16, infra.NATInstanceAMIParameter); inst.Inputs["ami"] != want {
		t.Errorf("NAT instance AMI %v; want %s from %s", inst.Inputs["ami"], want, infra.NATInstanceAMIParameter)
	}
	if !slices.Contains(inst.IgnoreChanges, "ami") {
		t.Errorf("NAT instance ignoreChanges = %v; a new AMI must not replace a running NAT", inst.IgnoreChanges)
	}
	ud, _ := inst.Inputs["userData"].(string)
	for _, w := range []string{"net.ipv4.ip_forward=1", "-j MASQUERADE", "-s 10.0.0.0/16", "iptables-save > /etc/sysconfig/iptables"} {
		if !strings.Contains(ud, w) {
			t.Errorf("NAT user data lacks %q:\n%s", w, ud)
		}
	}
	if get(t, inst.Inputs, "metadataOptions.httpTokens") != "required" {
		t.Errorf("NAT instance allows IMDSv1")
	}
	for i := range 3 {
		rt := one(t, in, typRouteTable, "net-private-"+string(rune('0'+i)))
		if get(t, rt.Inputs, "routes.0.networkInterfaceId") != inst.Outputs["primaryNetworkInterfaceId"] {
			t.Errorf("private route table %d routes via %v; want the NAT instance's interface", i, rt.Inputs["routes"])
		}
	}

	ep := model(t, "natMode=endpoints", "azCount=2")
	if count(ep, typNAT) != 0 || count(ep, typInstance) != 0 || count(ep, typEIP) != 0 || interfaces(ep) != len(infra.InterfaceEndpointServices) {
		t.Errorf("endpoints: %d NAT gateways, %d instances, %d EIPs, %d interface endpoints; want 0, 0, 0, %d",
			count(ep, typNAT), count(ep, typInstance), count(ep, typEIP), interfaces(ep), len(infra.InterfaceEndpointServices))
	}
	for i := range 2 {
		rt := one(t, ep, typRouteTable, "net-private-"+string(rune('0'+i)))
		// An empty list, not a missing one: switching from a NAT mode must
		// remove the old default route.
		if routes, ok := rt.Inputs["routes"].([]any); !ok || len(routes) != 0 {
			t.Errorf("endpoints: private route table %d routes = %#v; want an explicit empty list", i, rt.Inputs["routes"])
		}
	}
	sg := one(t, ep, typSG, "net-endpoints")
	for _, r := range ep.Find(typEgress) {
		if r.Inputs["securityGroupId"] == sg.Outputs["id"] {
			t.Errorf("endpoint security group has egress rule %s; endpoints only answer", r.Name)
		}
	}
}

// TestNATModesSecurity: no NAT mode changes the tasks' security groups, and
// what a mode adds (the NAT instance's and the endpoints' groups) admits
// only HTTPS from the VPC and is attached to nothing but its own device.
func TestNATModesSecurity(t *testing.T) {
	rules := func(p *plan.Result, groups map[string]bool) []string {
		var out []string
		for _, typ := range []string{typIngress, typEgress} {
			for _, r := range p.Find(typ) {
				if groups[r.Inputs["securityGroupId"].(string)] {
					out = append(out, typ+" "+r.Name+" "+strings.Join([]string{
						r.Inputs["ipProtocol"].(string), fmtAny(r.Inputs["fromPort"]), fmtAny(r.Inputs["toPort"]),
						fmtAny(r.Inputs["cidrIpv4"]), fmtAny(r.Inputs["referencedSecurityGroupId"]),
					}, " "))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	taskGroups := func(p *plan.Result) map[string]bool {
		g := map[string]bool{}
		for _, n := range []string{"sg-vpclink", "sg-upload", "sg-rekog"} {
			g[idOf(one(t, p, typSG, n))] = true
		}
		return g
	}
	base := model(t)
	want := rules(base, taskGroups(base))
	for _, mode := range []string{"instance", "endpoints"} {
		p := model(t, "natMode="+mode)
		if got := rules(p, taskGroups(p)); !slices.Equal(got, want) {
			t.Errorf("natMode=%s: task security group rules\n%v\nwant (as gateway)\n%v", mode, got, want)
		}
		own := map[string]bool{}
		for _, sg := range p.Find(typSG) {
			if id := idOf(sg); !taskGroups(p)[id] {
				own[id] = true
			}
		}
		if len(own) != 1 {
			t.Fatalf("natMode=%s adds %d security groups; want 1", mode, len(own))
		}
		for _, r := range p.Find(typIngress) {
			if own[r.Inputs["securityGroupId"].(string)] && (r.Inputs["cidrIpv4"] != "10.0.0.0/16" || r.Inputs["ipProtocol"] != "tcp" ||
				plan.Num(r.Inputs["fromPort"]) != 443 || plan.Num(r.Inputs["toPort"]) != 443) {
				t.Errorf("natMode=%s: ingress %s = %v; want TCP 443 from the VPC only", mode, r.Name, r.Inputs)
			}
		}
		for _, s := range p.Find(typService) {
			for _, g := range strs(t, get(t, s.Inputs, "networkConfiguration.securityGroups")) {
				if own[g] {
					t.Errorf("natMode=%s: service %s uses the mode's own group", mode, s.Name)
				}
			}
			if get(t, s.Inputs, "networkConfiguration.assignPublicIp") != false {
				t.Errorf("natMode=%s: service %s gets a public IP", mode, s.Name)
			}
		}
		for _, in := range p.Find(typInstance) {
			if in.Inputs["associatePublicIpAddress"] == true {
				t.Errorf("NAT instance gets an auto-assigned public IP besides its Elastic IP")
			}
		}
		if len(p.Find(typFlowLog)) != 1 {
			t.Errorf("natMode=%s: %d flow logs; want 1", mode, len(p.Find(typFlowLog)))
		}
	}
}

// fmtAny renders an optional plan value for comparison.
func fmtAny(v any) string {
	if v == nil {
		return "-"
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return v.(string)
}
