package stackconfig

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// RegionSupport says what a region offers of the services this system
// cannot run without. Only regions with Rekognition's Image API
// (DetectLabels) are in the table; a region absent from it is refused.
type RegionSupport struct {
	// VPCLinkZones are the zone IDs where API Gateway creates VPC links for
	// HTTP APIs (the link's subnets must all be in them). Empty: no VPC
	// links in the region.
	VPCLinkZones []string
	// FargateZones limits Linux Fargate tasks to these zone IDs; nil means
	// every zone of the region.
	FargateZones []string
	// Fargate CPU architectures offered for Linux tasks: "X86_64", "ARM64".
	FargateArch []string
}

// The three sources below were each read on 2026-11-30; Regions is
// derived from them, so a region is listed only when all three services
// run there (elsewhere the stack cannot work and deploy refuses it at
// preview). A region AWS adds later is refused until these lists learn it.

// rekognitionRegions are the regions of the "rekognition" service in the
// AWS SDK endpoint metadata (boto/botocore, botocore/data/endpoints.json at
// commit 0e6e2404b85d, 2026-08-07), the list behind "Amazon Rekognition
// endpoints and quotas": https://docs.aws.amazon.com/general/latest/gr/rekognition.html
// DetectLabels is part of the core Rekognition Image API, offered wherever
// the service is.
var rekognitionRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ap-southeast-5", "ap-southeast-7", "ca-central-1", "eu-central-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "il-central-1", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
}

// vpcLinkZones are the zone IDs where API Gateway creates VPC links for HTTP
// APIs, by region: "Availability by Region" of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html
// The stored copy of that page shows the rows of us-east-2, us-east-1 and
// us-west-1 (use1-az3 is not in us-east-1's list; us-west-1 has only
// usw1-az1 and usw1-az3); the other rows come from a public transcription
// of the same table that cites the page.
var vpcLinkZones = map[string][]string{
	"us-east-1": zones("use1", 1, 2, 4, 5, 6), "us-east-2": zones("use2", 1, 2, 3),
	"us-west-1": zones("usw1", 1, 3), "us-west-2": zones("usw2", 1, 2, 3, 4),
	"ap-east-1": zones("ape1", 2, 3), "ap-south-1": zones("aps1", 1, 2, 3),
	"ap-northeast-1": zones("apne1", 1, 2, 4), "ap-northeast-2": zones("apne2", 1, 2, 3),
	"ap-southeast-1": zones("apse1", 1, 2, 3), "ap-southeast-2": zones("apse2", 1, 2, 3),
	"ca-central-1": zones("cac1", 1, 2), "eu-central-1": zones("euc1", 1, 2, 3),
	"eu-west-1": zones("euw1", 1, 2, 3), "eu-west-2": zones("euw2", 1, 2, 3),
	"eu-west-3": zones("euw3", 1, 3), "eu-north-1": zones("eun1", 1, 2, 3),
	"me-south-1": zones("mes1", 1, 2, 3), "sa-east-1": zones("sae1", 1, 2, 3),
}

// fargateZones are the regions of Linux containers on Fargate, with the zone
// IDs tasks are limited to where the page names them (nil: every zone):
// "Linux containers on AWS Fargate" of
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html
// The stored copy of that page ends after ap-southeast-5; eu-central-1,
// eu-west-1, eu-west-2, eu-west-3, eu-north-1, me-south-1, il-central-1,
// eu-south-2 and sa-east-1 (where Fargate has run for years) are taken as
// unrestricted without that page's confirmation.
var fargateZones = map[string][]string{
	"us-east-1": nil, "us-east-2": nil, "us-west-1": zones("usw1", 1, 3), "us-west-2": nil,
	"ca-central-1": nil, "ca-west-1": nil, "mx-central-1": nil, "af-south-1": nil, "ap-east-1": nil,
	"ap-south-1": nil, "ap-northeast-1": zones("apne1", 1, 2, 4), "ap-northeast-2": nil,
	"ap-northeast-3": nil, "ap-south-2": nil, "ap-southeast-1": nil, "ap-southeast-2": nil,
	"ap-southeast-3": nil, "ap-southeast-4": nil, "ap-southeast-5": nil, "ap-southeast-7": nil,
	"eu-central-1": nil, "eu-west-1": nil, "eu-west-2": nil, "eu-west-3": nil, "eu-north-1": nil,
	"eu-south-2": nil, "me-south-1": nil, "il-central-1": nil, "sa-east-1": nil,
}

// fargateArch: no per-region list of Fargate CPU architectures was found;
// Graviton (ARM64) Fargate is assumed wherever Linux Fargate runs
// (unverified). CheckRegion still refuses an architecture a region entry
// lacks, for when one is known.
var fargateArch = bothArch

// Regions is what each region offers, derived from the lists above:
// only regions with all three services.
var Regions = func() map[string]RegionSupport {
	out := map[string]RegionSupport{}
	for _, r := range rekognitionRegions {
		fz, fargate := fargateZones[r]
		if links := vpcLinkZones[r]; len(links) > 0 && fargate {
			out[r] = RegionSupport{VPCLinkZones: links, FargateZones: fz, FargateArch: fargateArch}
		}
	}
	return out
}()

var bothArch = []string{"X86_64", "ARM64"}

// VPCLinkZones returns the zone IDs where API Gateway creates VPC links for
// HTTP APIs in region, as the source lists them (nil for a region it does
// not list).
func VPCLinkZones(region string) []string { return slices.Clone(vpcLinkZones[region]) }

// zones returns zone IDs <prefix>-az<n> for each n.
func zones(prefix string, ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("%s-az%d", prefix, n)
	}
	return out
}

// UsableZones returns the zone IDs where both the VPC link and the tasks
// can be: the subnets serve both.
func (s RegionSupport) UsableZones() []string {
	if s.FargateZones == nil {
		return s.VPCLinkZones
	}
	var out []string
	for _, z := range s.VPCLinkZones {
		if slices.Contains(s.FargateZones, z) {
			out = append(out, z)
		}
	}
	return out
}

// supportedRegions lists the regions of table offering arch, sorted.
func supportedRegions(table map[string]RegionSupport, arch string) []string {
	var out []string
	for r, s := range table {
		if len(s.UsableZones()) > 0 && slices.Contains(s.FargateArch, arch) {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// CheckRegion refuses a region where the stack cannot work, naming the
// config key to change and the choices that would work, as Errors (the
// format of every config problem). arch is the ECS cpuArchitecture (ARM64
// or X86_64).
func CheckRegion(table map[string]RegionSupport, region, arch string) error {
	s, ok := table[region]
	supported := strings.Join(supportedRegions(table, arch), ", ")
	switch {
	case !ok && !knownRegion(region):
		// In none of the source lists: most likely a typo, not a region
		// that lacks all three services.
		return Errors{fmt.Sprintf("aws:region: unknown region %q; supported regions: %s", region, supported)}
	case !ok || len(s.UsableZones()) == 0:
		return Errors{fmt.Sprintf("aws:region: %s lacks %s (this stack needs Rekognition DetectLabels, API Gateway VPC links for HTTP APIs and Fargate); supported regions: %s",
			region, strings.Join(missingServices(region), ", "), supported)}
	case !slices.Contains(s.FargateArch, arch):
		return Errors{fmt.Sprintf("%s:cpuArchitecture: Fargate in %s offers %s, not %s; choose %s or one of the regions %s",
			Namespace, region, strings.Join(s.FargateArch, ", "), arch,
			strings.Join(archKeys(s.FargateArch), " or "), supported)}
	}
	return nil
}

// knownRegion reports whether any of the source lists names region (a
// region of the table is known too).
func knownRegion(region string) bool {
	_, fargate := fargateZones[region]
	_, links := vpcLinkZones[region]
	return fargate || links || slices.Contains(rekognitionRegions, region)
}

// missingServices names what the source lists say region lacks.
func missingServices(region string) []string {
	var out []string
	if !slices.Contains(rekognitionRegions, region) {
		out = append(out, "Rekognition")
	}
	if len(vpcLinkZones[region]) == 0 {
		out = append(out, "VPC links for HTTP APIs")
	}
	if _, ok := fargateZones[region]; !ok {
		out = append(out, "Fargate")
	}
	if len(out) == 0 {
		out = append(out, "a zone where both VPC links and Fargate run")
	}
	return out
}

// archKeys maps ECS architectures back to cpuArchitecture config values.
func archKeys(ecs []string) []string {
	out := make([]string, len(ecs))
	for i, a := range ecs {
		out[i] = strings.ToLower(a)
	}
	return out
}

// ChooseZones returns the IDs of the first count zones (in the order AWS
// lists them) that the region supports for both VPC links and Fargate. Zone names map to zone IDs differently in every account, so
// only the ID says whether a zone can hold the VPC link:
// https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html
func ChooseZones(table map[string]RegionSupport, region string, names, ids []string, count int) ([]string, error) {
	if len(names) != len(ids) {
		return nil, fmt.Errorf("availability zones of %s: %d names but %d zone IDs", region, len(names), len(ids))
	}
	usable := table[region].UsableZones()
	var chosen, offered []string
	for i, id := range ids {
		if !slices.Contains(usable, id) {
			continue
		}
		offered = append(offered, fmt.Sprintf("%s (%s)", id, names[i]))
		if len(chosen) < count {
			chosen = append(chosen, id)
		}
	}
	if len(chosen) < count {
		return nil, Errors{fmt.Sprintf("%s:azCount: %d zones requested, but this account has only %d zones in %s where API Gateway VPC links and Fargate both run: %s; set azCount to at most %d",
			Namespace, count, len(offered), region, strings.Join(offered, ", "), len(offered))}
	}
	return chosen, nil
}
