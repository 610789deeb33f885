package infra

import (
	"reflect"
	"strings"
	"testing"
)

func TestSpotStrategy(t *testing.T) {
	got := SpotStrategy(2)
	want := []CapacityProviderShare{{"FARGATE", 2, 0}, {"FARGATE_SPOT", 0, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SpotStrategy(2) = %v; want %v", got, want)
	}
	// ECS: at most one provider with a base, at least one weight above 0.
	bases, weights := 0, 0
	for _, s := range got {
		if s.Base > 0 {
			bases++
		}
		weights += s.Weight
	}
	if bases > 1 || weights == 0 {
		t.Errorf("SpotStrategy(2) = %v breaks ECS's strategy rules", got)
	}
}

func TestOnDemandStrategy(t *testing.T) {
	if got := OnDemandStrategy(); !reflect.DeepEqual(got, []CapacityProviderShare{{"FARGATE", 0, 1}}) {
		t.Errorf("OnDemandStrategy() = %v", got)
	}
}

func TestBudgetTagFilter(t *testing.T) {
	if got := BudgetTagFilter("imagelabel-stack", "prod"); got != "user:imagelabel-stack$prod" {
		t.Errorf("BudgetTagFilter = %q", got)
	}
}

func TestNATUserData(t *testing.T) {
	ud := natUserData("10.0.0.0/16")
	if !strings.HasPrefix(ud, "#!/bin/bash\n") {
		t.Errorf("user data is not a shell script: %q", ud[:20])
	}
	// Forwarding must be on before traffic is masqueraded, and the rules
	// saved last.
	order := []string{"dnf install -y iptables-services", "net.ipv4.ip_forward=1", "-s 10.0.0.0/16 -j MASQUERADE", "iptables -F FORWARD", "iptables-save > /etc/sysconfig/iptables"}
	at := -1
	for _, w := range order {
		i := strings.Index(ud, w)
		if i <= at {
			t.Fatalf("user data: %q missing or out of order:\n%s", w, ud)
		}
		at = i
	}
}

func TestInterfaceEndpointServices(t *testing.T) {
	for _, need := range []string{"ecr.api", "ecr.dkr", "logs", "rekognition"} {
		found := false
		for _, s := range InterfaceEndpointServices {
			found = found || s == need
		}
		if !found {
			t.Errorf("no interface endpoint for %s", need)
		}
	}
	for _, s := range InterfaceEndpointServices {
		if s == "s3" {
			t.Errorf("S3 has a gateway endpoint; an interface endpoint for it cannot serve ECR layers and costs by the hour")
		}
	}
}
