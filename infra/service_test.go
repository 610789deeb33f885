package infra

import (
	"strings"
	"testing"
)

// TestRolloutHint: the message shown with a failed rollout names the
// service's log group and how to read its events.
func TestRolloutHint(t *testing.T) {
	h := rolloutHint("prod", "rekog")
	for _, want := range []string{"/imagelabel/prod/rekog", "aws logs tail", "aws ecs describe-services", "events", rolloutTimeout} {
		if !strings.Contains(h, want) {
			t.Errorf("rolloutHint(prod, rekog) = %q; lacks %q", h, want)
		}
	}
}

// TestFamilyName: task families allow letters, digits, '-' and '_' only.
func TestFamilyName(t *testing.T) {
	for stack, want := range map[string]string{"dev": "imagelabel-dev-upload", "team.prod": "imagelabel-team-prod-upload", "a_b": "imagelabel-a_b-upload"} {
		if got := familyName(stack, "upload"); got != want {
			t.Errorf("familyName(%q, upload) = %q; want %q", stack, got, want)
		}
	}
}
