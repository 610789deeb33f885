package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// regionSupport says what a region offers of the services this system
// cannot run without. A region absent from the table supports none of them.
type regionSupport struct {
	// Rekognition: the Rekognition Image API (DetectLabels) has an endpoint.
	Rekognition bool
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

// Sources of the table below, each read on 2026-11-30:
//
//   - Rekognition: the regions of the "rekognition" service in the AWS SDK
//     endpoint metadata (boto/botocore, botocore/data/endpoints.json at
//     commit 0e6e2404b85d, 2026-08-07), which is what
//     https://docs.aws.amazon.com/general/latest/gr/rekognition.html
//     ("Amazon Rekognition endpoints and quotas") lists; DetectLabels is
//     part of the core Rekognition Image API, offered wherever the service is.
//   - VPC links for HTTP APIs, by zone ID:
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html
//     ("Availability by Region"). The stored copy of that page shows the
//     rows for us-east-2, us-east-1 and us-west-1 (use1-az3 is not in
//     us-east-1's list; us-west-1 has only usw1-az1 and usw1-az3); the
//     other rows are from a public transcription of the same table that
//     cites that page. A region missing from it is refused, even if AWS has
//     added VPC links there since.
//   - Fargate (Linux) regions and their zone limits:
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html
//     ("Linux containers on AWS Fargate"): us-west-1 only in usw1-az1 and
//     usw1-az3, ap-northeast-1 only in apne1-az1, apne1-az2 and apne1-az4.
//   - Fargate on ARM64: no per-region list was found; the table assumes
//     Graviton Fargate wherever Linux Fargate runs (unverified, see the
//     deploy docs' troubleshooting).
//
// Only regions with all three services are listed: elsewhere the stack
// cannot work, so deploy refuses it at preview.
var regionTable = map[string]regionSupport{
	"us-east-1":      {true, zones("use1", 1, 2, 4, 5, 6), nil, bothArch},
	"us-east-2":      {true, zones("use2", 1, 2, 3), nil, bothArch},
	"us-west-1":      {true, zones("usw1", 1, 3), zones("usw1", 1, 3), bothArch},
	"us-west-2":      {true, zones("usw2", 1, 2, 3, 4), nil, bothArch},
	"ap-south-1":     {true, zones("aps1", 1, 2, 3), nil, bothArch},
	"ap-northeast-1": {true, zones("apne1", 1, 2, 4), zones("apne1", 1, 2, 4), bothArch},
	"ap-northeast-2": {true, zones("apne2", 1, 2, 3), nil, bothArch},
	"ap-southeast-1": {true, zones("apse1", 1, 2, 3), nil, bothArch},
	"ap-southeast-2": {true, zones("apse2", 1, 2, 3), nil, bothArch},
	"ca-central-1":   {true, zones("cac1", 1, 2), nil, bothArch},
	"eu-central-1":   {true, zones("euc1", 1, 2, 3), nil, bothArch},
	"eu-west-1":      {true, zones("euw1", 1, 2, 3), nil, bothArch},
	"eu-west-2":      {true, zones("euw2", 1, 2, 3), nil, bothArch},
	"sa-east-1":      {true, zones("sae1", 1, 2, 3), nil, bothArch},
}

var bothArch = []string{"X86_64", "ARM64"}

// zones returns zone IDs <prefix>-az<n> for each n.
func zones(prefix string, ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("%s-az%d", prefix, n)
	}
	return out
}

// usableZones returns the zone IDs where both the VPC link and the tasks
// can be: the subnets serve both.
func (s regionSupport) usableZones() []string {
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
func supportedRegions(table map[string]regionSupport, arch string) []string {
	var out []string
	for r, s := range table {
		if s.Rekognition && len(s.usableZones()) > 0 && slices.Contains(s.FargateArch, arch) {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// checkRegion refuses a region where the stack cannot work, naming the
// config key to change and the choices that would work. arch is the ECS
// cpuArchitecture (ARM64 or X86_64).
func checkRegion(table map[string]regionSupport, region, arch string) error {
	s, ok := table[region]
	switch {
	case !ok || !s.Rekognition || len(s.usableZones()) == 0:
		var missing []string
		if !s.Rekognition {
			missing = append(missing, "Rekognition DetectLabels")
		}
		if len(s.VPCLinkZones) == 0 {
			missing = append(missing, "API Gateway VPC links for HTTP APIs")
		}
		if len(s.FargateArch) == 0 {
			missing = append(missing, "ECS on Fargate")
		}
		return fmt.Errorf("aws:region: %s lacks %s; supported regions: %s",
			region, strings.Join(missing, ", "), strings.Join(supportedRegions(table, arch), ", "))
	case !slices.Contains(s.FargateArch, arch):
		return fmt.Errorf("%s:cpuArchitecture: Fargate in %s offers %s, not %s; choose %s or one of the regions %s",
			configNamespace, region, strings.Join(s.FargateArch, ", "), arch,
			strings.Join(archKeys(s.FargateArch), " or "), strings.Join(supportedRegions(table, arch), ", "))
	}
	return nil
}

// archKeys maps ECS architectures back to cpuArchitecture config values.
func archKeys(ecs []string) []string {
	out := make([]string, len(ecs))
	for i, a := range ecs {
		out[i] = strings.ToLower(a)
	}
	return out
}

// chooseZones returns the first count zones (names and IDs, in the order
// AWS lists them) whose zone ID the region supports for both VPC links and
// Fargate. Zone names map to zone IDs differently in every account, so
// only the ID says whether a zone can hold the VPC link:
// https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html
func chooseZones(table map[string]regionSupport, region string, names, ids []string, count int) (chosenNames, chosenIDs []string, err error) {
	if len(names) != len(ids) {
		return nil, nil, fmt.Errorf("availability zones of %s: %d names but %d zone IDs", region, len(names), len(ids))
	}
	usable := table[region].usableZones()
	var offered []string
	for i, id := range ids {
		if !slices.Contains(usable, id) {
			continue
		}
		offered = append(offered, fmt.Sprintf("%s (%s)", id, names[i]))
		if len(chosenIDs) < count {
			chosenNames = append(chosenNames, names[i])
			chosenIDs = append(chosenIDs, id)
		}
	}
	if len(chosenIDs) < count {
		return nil, nil, fmt.Errorf("%s:azCount: %d zones requested, but this account has only %d zones in %s where API Gateway VPC links and Fargate both run: %s; set azCount to at most %d",
			configNamespace, count, len(offered), region, strings.Join(offered, ", "), len(offered))
	}
	return chosenNames, chosenIDs, nil
}
