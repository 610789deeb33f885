package program_test

import (
	"fmt"
	"strings"
	"testing"

	"imagelabel/internal/awsrules"
	"imagelabel/internal/plan"
	"imagelabel/internal/program"
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
	plans := map[string]*plan.Result{}
	for _, m := range modes {
		plans[m] = model(t, "natMode="+m)
	}
	attached := func(r *plan.Resource) string {
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
			for _, ea := range plans[a].Find(typEIP) {
				for _, eb := range plans[b].Find(typEIP) {
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
	inst := one(t, model(t, "natMode=instance"), typInstance, "net-nat")
	if inst.Inputs["userDataReplaceOnChange"] != true {
		t.Errorf("NAT instance userDataReplaceOnChange = %v; want true", inst.Inputs["userDataReplaceOnChange"])
	}
}

// awsRuleViolations plans stack with cfg and returns the AWS input rule
// violations as text.
func awsRuleViolations(t *testing.T, stack string, cfg map[string]string) []string {
	t.Helper()
	p, err := plan.Model(stack, cfg)
	if err != nil {
		t.Fatalf("plan %s: %v", stack, err)
	}
	vs, _ := awsrules.Check(p)
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
	cfg, err := plan.ReadStackConfig(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	cfg[plan.Project+":monthlyBudgetUSD"] = "25"
	cfg[plan.Project+":budgetEmail"] = "ops@example.com"
	cfg["aws:defaultTags"] = fmt.Sprintf(`{"tags":{%q:%q}}`, program.StackTagKey, stack)
	for _, v := range awsRuleViolations(t, stack, cfg) {
		t.Error(v)
	}
}

// TestNATInstanceOfferedInMockAccount: the mock account offers the NAT
// instance type in the zone instance mode uses (the refusal itself is
// TestNATTypeOffered's).
func TestNATInstanceOfferedInMockAccount(t *testing.T) {
	cfg := baseConfig()
	cfg["imagelabel:natMode"] = "instance"
	if _, err := plan.Model("test", cfg); err != nil {
		t.Errorf("mock account refused the NAT instance: %v", err)
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
	_, err := plan.Model("test", cfg)
	if err == nil {
		t.Fatal("endpoints mode over a zone without the rekognition endpoint service was accepted")
	}
	for _, want := range []string{"imagelabel:natMode", "rekognition in use1-az5 (us-east-1f)", "imagelabel:azCount"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	cfg["imagelabel:azCount"] = "4"
	if _, err := plan.Model("test", cfg); err != nil {
		t.Errorf("endpoints mode in four zones offering every service: %v", err)
	}
	cfg["imagelabel:natMode"] = "gateway"
	cfg["imagelabel:azCount"] = "5"
	if _, err := plan.Model("test", cfg); err != nil {
		t.Errorf("gateway mode needs no endpoint service: %v", err)
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
		var need []*plan.Resource
		for _, typ := range egressTypes {
			need = append(need, p.Find(typ)...)
		}
		for _, svc := range p.Find(typService) {
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
func dependencyClosure(p *plan.Result, r *plan.Resource) map[string]bool {
	seen := map[string]bool{}
	stack := append([]string{}, r.DependsOn...)
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[u] {
			continue
		}
		seen[u] = true
		if d := p.ByURN(u); d != nil {
			stack = append(stack, d.DependsOn...)
		}
	}
	return seen
}
