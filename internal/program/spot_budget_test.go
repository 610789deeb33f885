package program_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"imagelabel/infra"
	"imagelabel/internal/plan"
)

// TestSpotWiring: the cluster has both Fargate providers in every case; the
// services always place tasks by a strategy (never the launch type, so
// toggling spot is an in-place change), forcing a new deployment as ECS
// requires on a strategy change, and wait for the cluster's providers.
func TestSpotWiring(t *testing.T) {
	onDemand := []any{map[string]any{"capacityProvider": "FARGATE", "base": 0.0, "weight": 1.0}}
	spot := []any{
		map[string]any{"capacityProvider": "FARGATE", "base": 1.0, "weight": 0.0},
		map[string]any{"capacityProvider": "FARGATE_SPOT", "base": 0.0, "weight": 1.0},
	}
	for _, tc := range []struct {
		overrides []string
		want      []any
	}{
		{nil, onDemand},
		{[]string{"cpuArchitecture=x86_64", "spot=true", "spotOnDemandBase=1"}, spot},
		// Fargate Spot runs ARM64 tasks too (since September 2024).
		{[]string{"spot=true", "spotOnDemandBase=1"}, spot},
	} {
		p := model(t, tc.overrides...)
		ccp := one(t, p, typCCP, "cluster")
		if got := strs(t, ccp.Inputs["capacityProviders"]); !reflect.DeepEqual(got, []string{"FARGATE", "FARGATE_SPOT"}) {
			t.Errorf("cluster capacity providers = %v", got)
		}
		if ccp.Inputs["clusterName"] != one(t, p, typCluster, "cluster").Outputs["name"] {
			t.Errorf("capacity providers attached to %v; want the cluster", ccp.Inputs["clusterName"])
		}
		for _, s := range p.Find(typService) {
			if _, ok := s.Inputs["launchType"]; ok {
				t.Errorf("%v: %s has launchType %v (exclusive with a strategy)", tc.overrides, s.Name, s.Inputs["launchType"])
			}
			if !reflect.DeepEqual(s.Inputs["capacityProviderStrategies"], tc.want) {
				t.Errorf("%v: %s strategy = %v; want %v", tc.overrides, s.Name, s.Inputs["capacityProviderStrategies"], tc.want)
			}
			// Always, not only when the strategy changes: the provider
			// replaces the service on a strategy change when the new
			// config lacks it, and the program cannot know the old one.
			if s.Inputs["forceNewDeployment"] != true {
				t.Errorf("%v: %s does not force a new deployment; a spot switch would replace the service", tc.overrides, s.Name)
			}
			if !slices.Contains(s.DependsOn, ccp.URN) {
				t.Errorf("%v: %s does not wait for the cluster's capacity providers (%v)", tc.overrides, s.Name, s.DependsOn)
			}
		}
	}
}

// TestSpotWarningFitsStopTimeout: a Spot task gets SIGTERM two minutes
// before it is stopped; the services' stop timeout must fit in it.
func TestSpotWarningFitsStopTimeout(t *testing.T) {
	const spotWarningSeconds = 120
	if infra.StopTimeoutSeconds > spotWarningSeconds {
		t.Errorf("stopTimeout %d s exceeds the two-minute Spot warning", infra.StopTimeoutSeconds)
	}
}

func TestBudget(t *testing.T) {
	if p := model(t); len(p.Find(typBudget)) != 0 {
		t.Errorf("a budget exists by default")
	}
	cfg := baseConfig()
	cfg["imagelabel:monthlyBudgetUSD"] = "25"
	cfg["imagelabel:budgetEmail"] = "ops@example.com"
	// Without the stack tag on every resource the budget would see nothing.
	if _, err := plan.Model("test", cfg); err == nil || !strings.Contains(err.Error(), "imagelabel:monthlyBudgetUSD") || !strings.Contains(err.Error(), "aws:defaultTags") {
		t.Errorf("budget without default tags = %v; want a refusal naming aws:defaultTags", err)
	}
	cfg["aws:defaultTags"] = `{"tags":{"imagelabel-stack":"test"}}`
	p, err := plan.Model("test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := one(t, p, typBudget, "budget")
	if b.Inputs["name"] != "imagelabel-test" || b.Inputs["budgetType"] != "COST" || b.Inputs["limitAmount"] != "25.00" ||
		b.Inputs["limitUnit"] != "USD" || b.Inputs["timeUnit"] != "MONTHLY" {
		t.Errorf("budget = %v", b.Inputs)
	}
	wantFilter := []any{map[string]any{"name": "TagKeyValue", "values": []any{"user:imagelabel-stack$test"}}}
	if !reflect.DeepEqual(b.Inputs["costFilters"], wantFilter) {
		t.Errorf("budget filters = %v; want %v", b.Inputs["costFilters"], wantFilter)
	}
	got := map[string]float64{}
	for _, n := range b.Inputs["notifications"].([]any) {
		m := n.(map[string]any)
		if m["comparisonOperator"] != "GREATER_THAN" || m["thresholdType"] != "PERCENTAGE" ||
			!reflect.DeepEqual(m["subscriberEmailAddresses"], []any{"ops@example.com"}) {
			t.Errorf("notification = %v", m)
		}
		got[m["notificationType"].(string)] = m["threshold"].(float64)
	}
	if !reflect.DeepEqual(got, map[string]float64{"FORECASTED": 80, "ACTUAL": 100}) {
		t.Errorf("notifications = %v; want 80%% forecast and 100%% actual", got)
	}
}

// TestBudgetInCents: the limit is sent with two decimals, so an amount
// under one cent, which would be sent as "0.00", is refused at preview,
// naming the key; one cent is sent as "0.01".
func TestBudgetInCents(t *testing.T) {
	cfg := baseConfig()
	cfg["aws:defaultTags"] = `{"tags":{"imagelabel-stack":"test"}}`
	cfg["imagelabel:budgetEmail"] = "ops@example.com"
	cfg["imagelabel:monthlyBudgetUSD"] = "0.004"
	if _, err := plan.Model("test", cfg); err == nil || !strings.Contains(err.Error(), "imagelabel:monthlyBudgetUSD") {
		t.Errorf("monthlyBudgetUSD 0.004 = %v; want a refusal naming imagelabel:monthlyBudgetUSD", err)
	}
	cfg["imagelabel:monthlyBudgetUSD"] = "0.01"
	p, err := plan.Model("test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := one(t, p, typBudget, "budget").Inputs["limitAmount"]; got != "0.01" {
		t.Errorf("limitAmount of 0.01 USD = %v; want 0.01", got)
	}
}

// TestDevStackTagged: the dev stack tags every resource with the stack tag
// the budget filters on, so turning the budget on needs no other change.
func TestDevStackTagged(t *testing.T) {
	dev, err := plan.ReadStackConfig(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"tags":{"imagelabel-stack":"dev"}}`; dev["aws:defaultTags"] != want {
		t.Errorf("Pulumi.dev.yaml aws:defaultTags = %s; want %s", dev["aws:defaultTags"], want)
	}
}
