package main

import (
	"fmt"
	"strings"
	"testing"

	"imagelabel/infra"
)

// TestNATModeSwitchKeepsAddressesApart: an Elastic IP declared under the
// same name in two NAT modes is updated in place when the stack switches
// between them. A NAT gateway's address cannot be associated with anything
// else while the gateway exists (the gateway is deleted only at the end of
// the update), so no name may stand for the gateway's address in one mode
// and an instance's in another.
// https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html
func TestNATModeSwitchKeepsAddressesApart(t *testing.T) {
	modes := []string{"gateway", "instance", "endpoints"}
	plans := map[string]*planResult{}
	for _, m := range modes {
		plans[m] = model(t, "natMode="+m)
	}
	attached := func(r *planResource) string {
		for _, k := range []string{"instance", "networkInterface", "associateWithPrivateIp"} {
			if v, ok := r.Inputs[k]; ok && v != "" {
				return k
			}
		}
		return "nothing (a NAT gateway takes it by allocation ID)"
	}
	for _, a := range modes {
		for _, b := range modes {
			if a >= b {
				continue
			}
			for _, ea := range plans[a].find(typEIP) {
				for _, eb := range plans[b].find(typEIP) {
					if ea.Name == eb.Name && attached(ea) != attached(eb) {
						t.Errorf("Elastic IP %s is attached to %s in natMode %s but to %s in natMode %s: switching updates one address from one device to the other",
							ea.Name, attached(ea), a, attached(eb), b)
					}
				}
			}
		}
	}
}

// TestNATInstanceUserDataReplaces: cloud-init runs user data once per
// instance, and the provider applies a user data change by stopping and
// starting the same instance unless userDataReplaceOnChange is set
// (terraform-provider-aws, aws_instance "user_data_replace_on_change"):
// a changed NAT script would never run.
func TestNATInstanceUserDataReplaces(t *testing.T) {
	inst := model(t, "natMode=instance").one(t, typInstance, "net-nat")
	if inst.Inputs["userDataReplaceOnChange"] != true {
		t.Errorf("NAT instance userDataReplaceOnChange = %v; want true", inst.Inputs["userDataReplaceOnChange"])
	}
}

// awsRuleViolations plans stack with cfg and returns the AWS input rule
// violations as text.
func awsRuleViolations(t *testing.T, stack string, cfg map[string]string) []string {
	t.Helper()
	p, err := runModel(stack, cfg)
	if err != nil {
		t.Fatalf("plan %s: %v", stack, err)
	}
	vs, _ := checkPlan(p, awsRules, awsPlanRules)
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// TestLongestStackName: a Pulumi stack name has up to 100 characters; every
// name derived from it must still fit its AWS limit (the budget name, for
// one, at most 100 characters).
func TestLongestStackName(t *testing.T) {
	stack := strings.Repeat("s", 100)
	cfg, err := readStackConfig(".", "dev")
	if err != nil {
		t.Fatal(err)
	}
	cfg[projectName+":monthlyBudgetUSD"] = "25"
	cfg[projectName+":budgetEmail"] = "ops@example.com"
	cfg["aws:defaultTags"] = fmt.Sprintf(`{"tags":{%q:%q}}`, stackTagKey, stack)
	for _, v := range awsRuleViolations(t, stack, cfg) {
		t.Error(v)
	}
}

// TestBudgetName: short stacks keep the readable name; long ones stay
// distinct and within the limit.
func TestBudgetName(t *testing.T) {
	if got := budgetName("dev"); got != "imagelabel-dev" {
		t.Errorf("budgetName(dev) = %q", got)
	}
	a, b := budgetName(strings.Repeat("s", 100)), budgetName(strings.Repeat("s", 99)+"t")
	if len(a) > maxBudgetName || len(b) > maxBudgetName || a == b {
		t.Errorf("long stacks: %q (%d), %q (%d); want distinct names of at most %d", a, len(a), b, len(b), maxBudgetName)
	}
}

// TestEndpointZonesRefused: in endpoints mode a zone where an endpoint
// service is not offered is refused at preview, naming the service, the
// zone and the keys; the mock account offers rekognition in every zone but
// us-east-1f (use1-az5), the fifth usable zone.
func TestEndpointZonesRefused(t *testing.T) {
	cfg := baseConfig()
	cfg["imagelabel:natMode"] = "endpoints"
	cfg["imagelabel:azCount"] = "5"
	_, err := runModel("test", cfg)
	if err == nil {
		t.Fatal("endpoints mode over a zone without the rekognition endpoint service was accepted")
	}
	for _, want := range []string{"imagelabel:natMode", "rekognition in use1-az5 (us-east-1f)", "imagelabel:azCount"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	cfg["imagelabel:azCount"] = "4"
	if _, err := runModel("test", cfg); err != nil {
		t.Errorf("endpoints mode in four zones offering every service: %v", err)
	}
	cfg["imagelabel:natMode"] = "gateway"
	cfg["imagelabel:azCount"] = "5"
	if _, err := runModel("test", cfg); err != nil {
		t.Errorf("gateway mode needs no endpoint service: %v", err)
	}
}

func TestCheckEndpointZones(t *testing.T) {
	names, ids := []string{"x-1a", "x-1b"}, []string{"x1-az2", "x1-az1"}
	offered := map[string][]string{}
	for _, s := range infra.InterfaceEndpointServices {
		offered[s] = names
	}
	if err := checkEndpointZones(names, ids, ids, offered); err != nil {
		t.Errorf("every service everywhere: %v", err)
	}
	offered["logs"] = []string{"x-1a"}
	if err := checkEndpointZones(names, ids, []string{"x1-az2"}, offered); err != nil {
		t.Errorf("logs missing only in an unused zone: %v", err)
	}
	if err := checkEndpointZones(names, ids, ids, offered); err == nil || !strings.Contains(err.Error(), "logs in x1-az1 (x-1b)") {
		t.Errorf("logs missing in a used zone: %v", err)
	}
}

// TestNATTypeOffered: a zone without the NAT instance type is refused,
// naming the key, the type and the zone; the mock account offers it in the
// zone instance mode uses.
func TestNATTypeOffered(t *testing.T) {
	if err := natTypeOffered("use1-az4", []string{"use1-az1", "use1-az4"}); err != nil {
		t.Errorf("offered zone refused: %v", err)
	}
	err := natTypeOffered("use1-az3", []string{"use1-az1", "use1-az4"})
	for _, want := range []string{"imagelabel:natMode", infra.NATInstanceType, "use1-az3"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("zone without the type: %v; want a refusal naming %q", err, want)
		}
	}
	cfg := baseConfig()
	cfg["imagelabel:natMode"] = "instance"
	if _, err := runModel("test", cfg); err != nil {
		t.Errorf("mock account refused the NAT instance: %v", err)
	}
}

// TestServicesWaitForEgress: an ECS service starts tasks as soon as it is
// created; a task whose subnet has no way out yet cannot pull its image,
// and three failed tasks trip the circuit breaker on the first `pulumi up`.
// In every NAT mode each service must (transitively) wait for everything
// its subnets' egress is made of, the public subnets' route to the internet
// gateway (the NAT's way out) included.
func TestServicesWaitForEgress(t *testing.T) {
	egressTypes := []string{typNAT, typInstance, typEIP, typEndpoint, typRTAssoc}
	for _, mode := range []string{"gateway", "instance", "endpoints"} {
		p := model(t, "natMode="+mode, "azCount=2")
		var need []*planResource
		for _, typ := range egressTypes {
			need = append(need, p.find(typ)...)
		}
		for _, svc := range p.find(typService) {
			deps := dependencyClosure(p, svc)
			for _, r := range need {
				if !deps[r.URN] {
					t.Errorf("natMode %s: ECS service %s does not wait for %s %s", mode, svc.Name, r.Type, r.Name)
				}
			}
		}
	}
}

// dependencyClosure returns the URNs r waits for, directly or not.
func dependencyClosure(p *planResult, r *planResource) map[string]bool {
	seen := map[string]bool{}
	stack := append([]string{}, r.DependsOn...)
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[u] {
			continue
		}
		seen[u] = true
		if d := p.byURN(u); d != nil {
			stack = append(stack, d.DependsOn...)
		}
	}
	return seen
}
