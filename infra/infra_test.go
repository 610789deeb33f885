package infra

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestRouteSlug(t *testing.T) {
	seen := map[string]string{}
	for _, key := range Routes {
		s := routeSlug(key)
		if prev, dup := seen[s]; dup {
			t.Errorf("routeSlug(%q) = routeSlug(%q) = %q", key, prev, s)
		}
		seen[s] = key
		if strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Errorf("routeSlug(%q) = %q: not a resource-name slug", key, s)
		}
	}
	if got := routeSlug("GET /labels/{proxy+}"); got != "get-labels-proxy" {
		t.Errorf("routeSlug = %q; want get-labels-proxy", got)
	}
	if got := routeSlug("GET /"); got != "get-root" {
		t.Errorf("routeSlug(GET /) = %q; want get-root", got)
	}
}

func TestLifecyclePolicy(t *testing.T) {
	s, err := lifecyclePolicy(7)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Rules []struct {
			RulePriority int `json:"rulePriority"`
			Selection    struct {
				TagStatus   string `json:"tagStatus"`
				CountType   string `json:"countType"`
				CountNumber int    `json:"countNumber"`
			} `json:"selection"`
			Action struct {
				Type string `json:"type"`
			} `json:"action"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("lifecycle policy %s: %v", s, err)
	}
	if len(p.Rules) != 1 {
		t.Fatalf("rules = %d", len(p.Rules))
	}
	r := p.Rules[0]
	if r.RulePriority != 1 || r.Selection.TagStatus != "any" || r.Selection.CountType != "imageCountMoreThan" || r.Selection.CountNumber != 7 || r.Action.Type != "expire" {
		t.Errorf("lifecycle rule = %+v", r)
	}
}

func TestTrustPolicy(t *testing.T) {
	for _, withArn := range []bool{true, false} {
		s, err := ecsTasksTrust("123456789012", "eu-west-1", withArn)
		if err != nil {
			t.Fatal(err)
		}
		var doc PolicyDocument
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatal(err)
		}
		st := doc.Statement[0]
		if st.Effect != "Allow" || st.Action != "sts:AssumeRole" || !reflect.DeepEqual(st.Principal, map[string]any{"Service": "ecs-tasks.amazonaws.com"}) {
			t.Errorf("trust statement = %+v", st)
		}
		want := map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}
		if withArn {
			want["ArnLike"] = map[string]any{"aws:SourceArn": "arn:aws:ecs:eu-west-1:123456789012:*"}
		}
		if !reflect.DeepEqual(st.Condition, want) {
			t.Errorf("ecsTasksTrust(withArn=%v) condition = %v; want %v", withArn, st.Condition, want)
		}
	}
}

func TestContainerDefinitions(t *testing.T) {
	a := &FargateServiceArgs{Container: "rekog", Port: 9090, Region: "us-east-1"}
	s, err := containerDefinitions(a, "repo@sha256:abc", "/lg", map[string]string{"B": "2", "A": "1"})
	if err != nil {
		t.Fatal(err)
	}
	var defs []map[string]any
	if err := json.Unmarshal([]byte(s), &defs); err != nil {
		t.Fatal(err)
	}
	d := defs[0]
	env := d["environment"].([]any)
	if env[0].(map[string]any)["name"] != "A" || env[1].(map[string]any)["name"] != "B" {
		t.Errorf("environment not sorted: %v", env)
	}
	pm := d["portMappings"].([]any)[0].(map[string]any)
	if pm["containerPort"] != 9090.0 || pm["hostPort"] != 9090.0 || pm["name"] != "rekog" {
		t.Errorf("port mapping = %v", pm)
	}
	hc := d["healthCheck"].(map[string]any)
	// ECS limits: interval 5-300, timeout 2-60 (< interval), retries 1-10, startPeriod 0-300.
	iv, to, re, sp := hc["interval"].(float64), hc["timeout"].(float64), hc["retries"].(float64), hc["startPeriod"].(float64)
	if iv < 5 || iv > 300 || to < 2 || to > 60 || to >= iv || re < 1 || re > 10 || sp < 0 || sp > 300 {
		t.Errorf("health check %v outside ECS limits", hc)
	}
	if d["stopTimeout"].(float64) > 120 {
		t.Errorf("stopTimeout %v > Fargate's 120 s", d["stopTimeout"])
	}
}
