package stackconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCheckRegionArchitecture: a region whose Fargate lacks the configured
// architecture is refused naming imagelabel:cpuArchitecture.
func TestCheckRegionArchitecture(t *testing.T) {
	table := map[string]RegionSupport{
		"xx-west-1": {zones("xxw1", 1), nil, []string{"X86_64"}},
		"xx-east-1": {zones("xxe1", 1), nil, bothArch},
	}
	err := CheckRegion(table, "xx-west-1", "ARM64")
	if err == nil || !strings.Contains(err.Error(), "imagelabel:cpuArchitecture") || !strings.Contains(err.Error(), "x86_64") || !strings.Contains(err.Error(), "xx-east-1") {
		t.Errorf("CheckRegion(ARM64 where only X86_64) = %v; want a cpuArchitecture refusal offering x86_64 and xx-east-1", err)
	}
	if err := CheckRegion(table, "xx-west-1", "X86_64"); err != nil {
		t.Errorf("CheckRegion(X86_64) = %v", err)
	}
}

// TestCheckRegionUnknown: a name in none of the source lists is an unknown
// region (a typo), not one that lacks Rekognition, VPC links and Fargate; a
// real region without Rekognition still says so. Both come as Errors, the
// format of every config problem.
func TestCheckRegionUnknown(t *testing.T) {
	err := CheckRegion(Regions, "mars-1", "ARM64")
	var ce Errors
	if !errors.As(err, &ce) || len(ce) != 1 || !strings.HasPrefix(ce[0], `aws:region: unknown region "mars-1"; supported regions: `) ||
		!strings.Contains(ce[0], "us-east-1") || strings.Contains(ce[0], "lacks") {
		t.Errorf("CheckRegion(mars-1) = %#v; want one Errors line: unknown region with the supported list", err)
	}
	err = CheckRegion(Regions, "eu-north-1", "ARM64")
	if !errors.As(err, &ce) || len(ce) != 1 || !strings.Contains(ce[0], "eu-north-1 lacks Rekognition") {
		t.Errorf("CheckRegion(eu-north-1) = %#v; want one Errors line saying it lacks Rekognition", err)
	}
}

// TestRegionTable: every listed region is usable, and its zone IDs are its
// own (a typo would silently refuse every zone).
func TestRegionTable(t *testing.T) {
	for region, s := range Regions {
		if !slices.Contains(rekognitionRegions, region) || len(s.UsableZones()) == 0 || len(s.FargateArch) == 0 {
			t.Errorf("%s listed but not usable: %+v", region, s)
		}
		first := s.VPCLinkZones[0]
		prefix := first[:strings.LastIndex(first, "-az")]
		for _, z := range append(slices.Clone(s.VPCLinkZones), s.FargateZones...) {
			if !strings.HasPrefix(z, prefix+"-az") {
				t.Errorf("%s: zone %s does not share the prefix %s", region, z, prefix)
			}
		}
	}
}

// TestChooseZones keeps AWS's order, skips unsupported IDs whatever their
// names, and refuses inconsistent input.
func TestChooseZones(t *testing.T) {
	names := []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}
	ids := []string{"use1-az3", "use1-az6", "use1-az1", "use1-az4"}
	got, err := ChooseZones(Regions, "us-east-1", names, ids, 2)
	if err != nil || !slices.Equal(got, []string{"use1-az6", "use1-az1"}) {
		t.Errorf("ChooseZones(2) = %v, %v; want [use1-az6 use1-az1]", got, err)
	}
	if _, err := ChooseZones(Regions, "us-east-1", names, ids, 4); err == nil || !strings.Contains(err.Error(), "at most 3") {
		t.Errorf("ChooseZones(4) = %v; want a refusal offering at most 3", err)
	}
	if _, err := ChooseZones(Regions, "us-east-1", names, ids[:3], 1); err == nil {
		t.Errorf("ChooseZones(4 names, 3 IDs) = nil error")
	}
}
