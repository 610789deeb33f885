package infra_test

import (
	"slices"
	"testing"

	"imagelabel/infra"
)

// TestSignedRoutes: the signed routes are routes of the API, and the caller
// policy's resources name exactly them.
func TestSignedRoutes(t *testing.T) {
	for _, r := range infra.SignedRoutes {
		if !slices.Contains(infra.Routes, r) {
			t.Errorf("signed route %q is not a route of the API %v", r, infra.Routes)
		}
	}
	const exec = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
	got := infra.InvokeResources(exec)
	want := []string{exec + "/*/POST/upload", exec + "/*/GET/labels/*"}
	if !slices.Equal(got, want) {
		t.Errorf("InvokeResources(%s) = %v; want %v", exec, got, want)
	}
}
