package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
)

// The cost estimate of `go run . plan`: fixed monthly costs read off the
// resources the plan declares, and the cost of 1,000 uploads, from one price
// table per region. Prices are list prices (no free tier, no Savings Plans).

// hoursPerMonth is AWS's billing month (the AWS Pricing Calculator's 730 h).
const hoursPerMonth = 730.0

// Assumptions of the usage-driven items, stated in every basis they enter.
const (
	// avgImageBytes is the average uploaded image.
	avgImageBytes = 1 << 20
	// rekogCallBytes is what one DetectLabels call sends and receives (the
	// request names the S3 object; the image itself never leaves S3).
	rekogCallBytes = 8 << 10
	// logBytesPerUpload is the JSON log lines one upload writes (upload,
	// rekog and the API access log).
	logBytesPerUpload = 2 << 10
	// idleLogGBPerGroup is what a log group receives in a month without
	// uploads (health checks, proxy and flow-log lines).
	idleLogGBPerGroup = 0.05
	// insightsMetricsCluster and insightsMetricsService approximate the
	// custom metrics Container Insights publishes per cluster and service.
	insightsMetricsCluster = 8
	insightsMetricsService = 10
	// apiGatewayMeterBytes: HTTP API requests are metered in 512 KB steps.
	apiGatewayMeterBytes = 512 << 10
	// bytesPerGB is the binary gigabyte AWS bills data and storage in.
	bytesPerGB = 1 << 30
)

// price is one list price with where and when it was read.
type price struct {
	USD    float64
	Source string
}

// Price keys of a table.
const (
	pFargateVCPU     = "fargate vCPU-hour "     // + ECS architecture
	pFargateGB       = "fargate GB-hour "       // + ECS architecture
	pFargateSpotVCPU = "fargate spot vCPU-hour" // X86_64 only
	pFargateSpotGB   = "fargate spot GB-hour"
	pNATHour         = "NAT gateway hour"
	pNATGB           = "NAT gateway GB processed"
	pIPv4Hour        = "public IPv4 address hour"
	pInstanceHour    = "EC2 hour " // + instance type
	pGP3GBMonth      = "EBS gp3 GB-month"
	pEndpointHour    = "interface endpoint hour per AZ"
	pEndpointGB      = "interface endpoint GB processed"
	pHostedZone      = "Route 53 hosted zone month"
	pCloudMapInst    = "Cloud Map registered instance month"
	pLogsIngestGB    = "CloudWatch Logs GB ingested"
	pLogsStoreGB     = "CloudWatch Logs GB-month stored"
	pMetricMonth     = "CloudWatch custom metric month"
	pAPIRequest      = "HTTP API request"
	pRekogImage      = "Rekognition DetectLabels image"
	pS3Put           = "S3 PUT request"
	pS3Get           = "S3 GET request"
	pS3GBMonth       = "S3 Standard GB-month"
)

// priceTable is the prices of one region.
type priceTable struct {
	AsOf   string // date the prices were read
	Prices map[string]price
}

// Sources of the price tables.
const (
	srcFargate    = "https://aws.amazon.com/fargate/pricing/"
	srcVPC        = "https://aws.amazon.com/vpc/pricing/"
	srcEC2        = "https://aws.amazon.com/ec2/pricing/on-demand/"
	srcEBS        = "https://aws.amazon.com/ebs/pricing/"
	srcPrivLink   = "https://aws.amazon.com/privatelink/pricing/"
	srcRoute53    = "https://aws.amazon.com/route53/pricing/"
	srcCloudMap   = "https://aws.amazon.com/cloud-map/pricing/"
	srcCloudWatch = "https://aws.amazon.com/cloudwatch/pricing/"
	srcAPIGW      = "https://aws.amazon.com/api-gateway/pricing/"
	srcRekog      = "https://aws.amazon.com/rekognition/pricing/"
	srcS3         = "https://aws.amazon.com/s3/pricing/"
)

// usEastWestOnDemand are the list prices shared by us-east-1, us-east-2 and
// us-west-2: the pricing pages below list the same figure for each of the
// three for every item here (region selector of each page).
var usEastWestOnDemand = map[string]price{
	pFargateVCPU + "X86_64": {0.04048, srcFargate},
	pFargateGB + "X86_64":   {0.004445, srcFargate},
	pFargateVCPU + "ARM64":  {0.03238, srcFargate},
	pFargateGB + "ARM64":    {0.00356, srcFargate},
	// Every public IPv4 address, Elastic IPs included, since 1 Feb 2024.
	pIPv4Hour:                  {0.005, srcVPC},
	pNATHour:                   {0.045, srcVPC},
	pNATGB:                     {0.045, srcVPC},
	pInstanceHour + "t4g.nano": {0.0042, srcEC2},
	pGP3GBMonth:                {0.08, srcEBS},
	pEndpointHour:              {0.01, srcPrivLink},
	pEndpointGB:                {0.01, srcPrivLink},
	pHostedZone:                {0.50, srcRoute53},
	pCloudMapInst:              {0.10, srcCloudMap},
	pLogsIngestGB:              {0.50, srcCloudWatch},
	pLogsStoreGB:               {0.03, srcCloudWatch},
	pMetricMonth:               {0.30, srcCloudWatch},
	pAPIRequest:                {1.00 / 1e6, srcAPIGW},
	pRekogImage:                {0.001, srcRekog},
	pS3Put:                     {0.005 / 1000, srcS3},
	pS3Get:                     {0.0004 / 1000, srcS3},
	pS3GBMonth:                 {0.023, srcS3},
}

// withPrices returns base plus extra, as a new map.
func withPrices(base map[string]price, extra map[string]price) map[string]price {
	out := make(map[string]price, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// priceTables holds the regions with a price table. A region without one,
// or a price a table lacks, gets no estimate rather than a guess. Fargate
// Spot prices are per region and float with supply: only us-east-1's, as
// listed on the date read, is in a table.
var priceTables = map[string]priceTable{
	"us-east-1": {AsOf: "2026-11-30", Prices: withPrices(usEastWestOnDemand, map[string]price{
		pFargateSpotVCPU: {0.01334058, srcFargate},
		pFargateSpotGB:   {0.00146489, srcFargate},
	})},
	"us-east-2": {AsOf: "2026-11-30", Prices: usEastWestOnDemand},
	"us-west-2": {AsOf: "2026-11-30", Prices: usEastWestOnDemand},
}

// costItem is one line of the estimate.
type costItem struct {
	Resource   string  `json:"resource"`
	MonthlyUSD float64 `json:"monthlyUSD"`
	Basis      string  `json:"basis"`
}

// costEstimate is the estimate the plan prints and adds to --json as "cost".
type costEstimate struct {
	MonthlyUSD        float64    `json:"monthlyUSD"`
	Per1000UploadsUSD float64    `json:"per1000UploadsUSD"`
	Items             []costItem `json:"items"`
	// UploadItems break down per1000UploadsUSD (monthlyUSD is the cost of
	// 1,000 uploads in each).
	UploadItems []costItem `json:"uploadItems"`
	Region      string     `json:"region"`
	PricesAsOf  string     `json:"pricesAsOf"`
	// Unavailable says why there is no estimate (no price table).
	Unavailable string `json:"unavailable,omitempty"`
}

// estimator accumulates items against one table; a missing price is
// recorded (the estimate is then withheld), never taken as zero.
type estimator struct {
	t       priceTable
	items   []costItem
	missing string // first price the table lacks
}

func (e *estimator) p(key string) float64 {
	pr, ok := e.t.Prices[key]
	if !ok && e.missing == "" {
		e.missing = strings.TrimSpace(key)
	}
	return pr.USD
}

func (e *estimator) add(resource string, usd float64, basis string, args ...any) {
	e.items = append(e.items, costItem{Resource: resource, MonthlyUSD: round4(usd), Basis: fmt.Sprintf(basis, args...)})
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// usd formats a price compactly ($0.045, $0.00000100).
func usd(f float64) string { return "$" + strconv.FormatFloat(f, 'f', -1, 64) }

// estimateCost prices the plan's resources for the region. cfg gives what
// the plan cannot show (image retention, for storage). Without a table, or
// with a price missing from it, the estimate has no figures and says why.
func estimateCost(p *planResult, region string, cfg Config) *costEstimate {
	est := &costEstimate{Region: region}
	t, ok := priceTables[region]
	if !ok {
		var have []string
		for r := range priceTables {
			have = append(have, r)
		}
		sort.Strings(have)
		est.Unavailable = fmt.Sprintf("no price table for %s (tables: %s); not guessing", region, strings.Join(have, ", "))
		return est
	}
	est.PricesAsOf = t.AsOf
	e := &estimator{t: t}
	fixedNetwork(e, p)
	fixedTasks(e, p)
	fixedDiscovery(e, p)
	fixedLogs(e, p)
	monthly := e.items
	e.items = nil
	perUpload(e, p, cfg)
	if e.missing != "" {
		est.Unavailable = fmt.Sprintf("the %s price table has no price for %q; not guessing", region, e.missing)
		return est
	}
	est.Items, est.UploadItems = monthly, e.items
	for _, it := range monthly {
		est.MonthlyUSD += it.MonthlyUSD
	}
	for _, it := range e.items {
		est.Per1000UploadsUSD += it.MonthlyUSD
	}
	est.MonthlyUSD, est.Per1000UploadsUSD = round4(est.MonthlyUSD), round4(est.Per1000UploadsUSD)
	return est
}

// num reads a number input ("256" or 256).
func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

// fixedNetwork prices NAT gateways, NAT instances and their volumes, public
// IPv4 addresses and interface endpoints.
func fixedNetwork(e *estimator, p *planResult) {
	for _, r := range p.find("aws:ec2/natGateway:NatGateway") {
		e.add(r.Name+" (NAT gateway)", hoursPerMonth*e.p(pNATHour), "730 h x %s", usd(e.p(pNATHour)))
	}
	for _, r := range p.find("aws:ec2/instance:Instance") {
		typ, _ := r.Inputs["instanceType"].(string)
		h := e.p(pInstanceHour + typ)
		e.add(r.Name+" (EC2 "+typ+")", hoursPerMonth*h, "730 h x %s", usd(h))
		gb := 8.0 // EC2's default root volume when none is stated
		if rb, ok := r.Inputs["rootBlockDevice"].(map[string]any); ok && num(rb["volumeSize"]) > 0 {
			gb = num(rb["volumeSize"])
		}
		e.add(r.Name+" (EBS gp3 root volume)", gb*e.p(pGP3GBMonth), "%g GB x %s", gb, usd(e.p(pGP3GBMonth)))
	}
	for _, r := range p.find("aws:ec2/eip:Eip") {
		e.add(r.Name+" (public IPv4, Elastic IP)", hoursPerMonth*e.p(pIPv4Hour), "730 h x %s", usd(e.p(pIPv4Hour)))
	}
	for _, r := range p.find("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if r.Inputs["vpcEndpointType"] != "Interface" {
			continue // gateway endpoints (S3) are free
		}
		azs := 0
		if ids, ok := r.Inputs["subnetIds"].([]any); ok {
			azs = len(ids)
		}
		h := e.p(pEndpointHour)
		e.add(r.Name+" (interface endpoint)", float64(azs)*hoursPerMonth*h, "%d AZ x 730 h x %s", azs, usd(h))
	}
}

// taskShape is what one ECS service runs.
type taskShape struct {
	name        string
	vcpu, gb    float64
	arch        string
	onDemand    float64
	spot        float64
	registered  bool // in a Cloud Map DNS service (serviceRegistries)
	scPublished bool // a Service Connect server
}

// taskShapes reads each ECS service with its task definition and splits its
// desiredCount between on-demand and Spot by its capacity provider strategy.
func taskShapes(p *planResult) []taskShape {
	defs := map[string]*planResource{}
	for _, td := range p.find("aws:ecs/taskDefinition:TaskDefinition") {
		if arn, ok := td.Outputs["arn"].(string); ok {
			defs[arn] = td
		}
	}
	var out []taskShape
	for _, s := range p.find("aws:ecs/service:Service") {
		td := defs[fmt.Sprint(s.Inputs["taskDefinition"])]
		if td == nil {
			continue
		}
		sh := taskShape{name: s.Name, vcpu: num(td.Inputs["cpu"]) / 1024, gb: num(td.Inputs["memory"]) / 1024, arch: "X86_64"}
		if rp, ok := td.Inputs["runtimePlatform"].(map[string]any); ok {
			if a, ok := rp["cpuArchitecture"].(string); ok {
				sh.arch = a
			}
		}
		n := num(s.Inputs["desiredCount"])
		sh.onDemand, sh.spot = splitTasks(n, s.Inputs["capacityProviderStrategies"])
		if sr, ok := s.Inputs["serviceRegistries"].(map[string]any); ok && sr["registryArn"] != nil {
			sh.registered = true
		}
		if sc, ok := s.Inputs["serviceConnectConfiguration"].(map[string]any); ok {
			if svcs, ok := sc["services"].([]any); ok && len(svcs) > 0 {
				sh.scPublished = true
			}
		}
		out = append(out, sh)
	}
	return out
}

// splitTasks applies a capacity provider strategy to n tasks: each
// provider's base first, the rest by weight (no strategy: all on-demand).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
func splitTasks(n float64, strategy any) (onDemand, spot float64) {
	items, _ := strategy.([]any)
	if len(items) == 0 {
		return n, 0
	}
	var wOD, wSpot float64
	left := n
	for _, it := range items {
		m, _ := it.(map[string]any)
		base := math.Min(num(m["base"]), left)
		left -= base
		if m["capacityProvider"] == infra.CapacityFargateSpot {
			spot += base
			wSpot += num(m["weight"])
		} else {
			onDemand += base
			wOD += num(m["weight"])
		}
	}
	if left > 0 && wOD+wSpot > 0 {
		spot += left * wSpot / (wOD + wSpot)
		onDemand += left * wOD / (wOD + wSpot)
	}
	return onDemand, spot
}

// fixedTasks prices the Fargate vCPU and memory hours of desiredCount tasks.
func fixedTasks(e *estimator, p *planResult) {
	for _, t := range taskShapes(p) {
		if t.onDemand > 0 {
			cpu, mem := e.p(pFargateVCPU+t.arch), e.p(pFargateGB+t.arch)
			e.add(fmt.Sprintf("%s (Fargate %s on-demand)", t.name, t.arch),
				t.onDemand*hoursPerMonth*(t.vcpu*cpu+t.gb*mem),
				"%g task x 730 h x (%g vCPU x %s + %g GB x %s)", t.onDemand, t.vcpu, usd(cpu), t.gb, usd(mem))
		}
		if t.spot > 0 {
			cpu, mem := e.p(pFargateSpotVCPU), e.p(pFargateSpotGB)
			e.add(fmt.Sprintf("%s (Fargate Spot %s)", t.name, t.arch),
				t.spot*hoursPerMonth*(t.vcpu*cpu+t.gb*mem),
				"%g task x 730 h x (%g vCPU x %s + %g GB x %s)", t.spot, t.vcpu, usd(cpu), t.gb, usd(mem))
		}
	}
}

// fixedDiscovery prices the hosted zone behind each private DNS namespace
// (an HTTP namespace has none) and the Cloud Map instances the tasks
// register: one per task in the DNS service, one per Service Connect
// server task in the HTTP namespace.
func fixedDiscovery(e *estimator, p *planResult) {
	for _, r := range p.find("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace") {
		e.add(r.Name+" (Route 53 private hosted zone)", e.p(pHostedZone), "1 zone x %s/month", usd(e.p(pHostedZone)))
	}
	instances := 0.0
	for _, t := range taskShapes(p) {
		if t.registered {
			instances += t.onDemand + t.spot
		}
		if t.scPublished {
			instances += t.onDemand + t.spot
		}
	}
	if instances > 0 {
		e.add("Cloud Map instances", instances*e.p(pCloudMapInst), "%g instances x %s/month", instances, usd(e.p(pCloudMapInst)))
	}
}

// fixedLogs prices the idle ingestion and storage of every log group and
// Container Insights' metrics when a cluster enables it.
func fixedLogs(e *estimator, p *planResult) {
	groups := p.find("aws:cloudwatch/logGroup:LogGroup")
	if n := float64(len(groups)); n > 0 {
		ing, st := e.p(pLogsIngestGB), e.p(pLogsStoreGB)
		days := 0.0
		for _, g := range groups {
			days += math.Min(num(g.Inputs["retentionInDays"]), 30)
		}
		// Steady state: a group holds retention days' worth of its monthly
		// ingestion (capped at one month: the estimate is of one month).
		stored := idleLogGBPerGroup * days / 30
		e.add(fmt.Sprintf("CloudWatch Logs (%d log groups, idle)", len(groups)),
			n*idleLogGBPerGroup*ing+stored*st,
			"%g groups x %g GB ingested x %s + %.4f GB stored x %s (assumed idle volume)", n, idleLogGBPerGroup, usd(ing), stored, usd(st))
	}
	for _, c := range p.find("aws:ecs/cluster:Cluster") {
		settings, _ := c.Inputs["settings"].([]any)
		for _, s := range settings {
			m, _ := s.(map[string]any)
			if m["name"] == "containerInsights" && m["value"] == "enabled" {
				metrics := float64(insightsMetricsCluster + insightsMetricsService*len(p.find("aws:ecs/service:Service")))
				e.add(c.Name+" (Container Insights)", metrics*e.p(pMetricMonth),
					"~%g metrics x %s (approximate metric count)", metrics, usd(e.p(pMetricMonth)))
			}
		}
	}
}

// perUpload prices 1,000 uploads of avgImageBytes: API requests, DetectLabels,
// S3 requests and storage for the retention period, the egress path's data
// processing for the Rekognition calls (the image itself goes through the
// free S3 gateway endpoint) and the log lines.
func perUpload(e *estimator, p *planResult, cfg Config) {
	const n = 1000.0
	meters := math.Ceil(float64(avgImageBytes) / apiGatewayMeterBytes)
	e.add("API Gateway HTTP API", n*meters*e.p(pAPIRequest), "1000 uploads x %g requests (512 KB steps of %d B) x %s", meters, avgImageBytes, usd(e.p(pAPIRequest)))
	e.add("Rekognition DetectLabels", n*e.p(pRekogImage), "1000 images x %s", usd(e.p(pRekogImage)))
	e.add("S3 requests", n*(e.p(pS3Put)+e.p(pS3Get)), "1000 x (PUT %s + GET by Rekognition %s)", usd(e.p(pS3Put)), usd(e.p(pS3Get)))
	gb := n * avgImageBytes / bytesPerGB
	months := float64(cfg.ImageRetentionDays) * 24 / hoursPerMonth
	e.add("S3 storage", gb*months*e.p(pS3GBMonth), "%.4f GB x %.3f months (%d days retention) x %s", gb, months, cfg.ImageRetentionDays, usd(e.p(pS3GBMonth)))
	viaNAT := float64(rekogCallBytes + logBytesPerUpload)
	switch {
	case len(p.find("aws:ec2/natGateway:NatGateway")) > 0:
		e.add("NAT gateway data processing", n*viaNAT/bytesPerGB*e.p(pNATGB), "1000 x %g B (DetectLabels call + log lines) x %s/GB", viaNAT, usd(e.p(pNATGB)))
	case len(p.find("aws:ec2/instance:Instance")) > 0:
		e.add("NAT instance data processing", 0, "no per-GB charge: only the instance hours (data to AWS endpoints in the region is not billed as transfer)")
	case hasInterfaceEndpoints(p):
		e.add("Interface endpoint data processing", n*viaNAT/bytesPerGB*e.p(pEndpointGB), "1000 x %g B (DetectLabels call + log lines) x %s/GB", viaNAT, usd(e.p(pEndpointGB)))
	}
	lg := n * logBytesPerUpload / bytesPerGB
	e.add("CloudWatch Logs ingestion", lg*e.p(pLogsIngestGB), "1000 x %d B x %s/GB", logBytesPerUpload, usd(e.p(pLogsIngestGB)))
}

func hasInterfaceEndpoints(p *planResult) bool {
	for _, r := range p.find("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if r.Inputs["vpcEndpointType"] == "Interface" {
			return true
		}
	}
	return false
}

// referenceMonthlyUSD is the fixed monthly cost of the reference design's
// shape in the table's region: two x86 tasks of 1 vCPU / 3 GB on demand,
// one NAT gateway with its Elastic IP, one private DNS namespace.
func referenceMonthlyUSD(t priceTable) float64 {
	pr := func(k string) float64 { return t.Prices[k].USD }
	tasks := 2 * hoursPerMonth * (1*pr(pFargateVCPU+"X86_64") + 3*pr(pFargateGB+"X86_64"))
	nat := hoursPerMonth * (pr(pNATHour) + pr(pIPv4Hour))
	return tasks + nat + pr(pHostedZone)
}

// printCost writes the estimate after the plan tree.
func printCost(w io.Writer, c *costEstimate) error {
	var b strings.Builder
	if c.Unavailable != "" {
		fmt.Fprintf(&b, "estimated cost: %s\n", c.Unavailable)
	} else {
		fmt.Fprintf(&b, "estimated monthly cost in %s (list prices as of %s):\n", c.Region, c.PricesAsOf)
		for _, it := range c.Items {
			fmt.Fprintf(&b, "  %9.2f USD  %s  [%s]\n", it.MonthlyUSD, it.Resource, it.Basis)
		}
		fmt.Fprintf(&b, "  %9.2f USD  fixed per month\n", c.MonthlyUSD)
		if ref := referenceMonthlyUSD(priceTables[c.Region]); ref > 0 {
			fmt.Fprintf(&b, "  (%.1f%% of the reference design's %.2f USD: 2 x86 tasks of 1 vCPU / 3 GB, NAT gateway + Elastic IP, 1 DNS namespace)\n", 100*c.MonthlyUSD/ref, ref)
		}
		fmt.Fprintf(&b, "per 1,000 uploads of %d KiB:\n", avgImageBytes>>10)
		for _, it := range c.UploadItems {
			fmt.Fprintf(&b, "  %9.4f USD  %s  [%s]\n", it.MonthlyUSD, it.Resource, it.Basis)
		}
		fmt.Fprintf(&b, "  %9.4f USD  per 1,000 uploads\n", c.Per1000UploadsUSD)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write cost: %w", err)
	}
	return nil
}

// planCost estimates the plan's cost from the stack config it ran with
// (fully qualified keys, as runModel takes them).
func planCost(res *planResult, config map[string]string) (*costEstimate, error) {
	cfg, err := loadConfig(func(key string) (string, bool) {
		v, ok := config[configNamespace+":"+key]
		return v, ok
	})
	if err != nil {
		return nil, err
	}
	region := config["aws:region"]
	if region == "" {
		region = mockRegion
	}
	return estimateCost(res, region, cfg), nil
}

// planWithCost is the --json document: the plan and its "cost".
type planWithCost struct {
	*planResult
	Cost *costEstimate `json:"cost"`
}

// writePlanJSON encodes the plan with its cost estimate.
func writePlanJSON(w io.Writer, res *planResult, c *costEstimate) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(planWithCost{planResult: res, Cost: c}); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// stackTagKey is the cost allocation tag that marks every resource of a
// stack (through the AWS provider's default tags, aws:defaultTags) and that
// the budget filters on. A hyphen, not a colon: the Budgets filter value is
// "user:<key>$<value>".
const stackTagKey = "imagelabel-stack"

// declareBudget adds the budget guard when monthlyBudgetUSD is set. The
// budget only sees what carries the stack tag, so it refuses a stack whose
// aws:defaultTags do not tag every resource with stackTagKey = the stack.
func declareBudget(ctx *pulumi.Context, cfg Config) error {
	if cfg.MonthlyBudgetUSD == 0 {
		return nil
	}
	raw, _ := ctx.GetConfig("aws:defaultTags")
	var dt struct {
		Tags map[string]string `json:"tags"`
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &dt); err != nil {
			return fmt.Errorf("aws:defaultTags: %w", err)
		}
	}
	if dt.Tags[stackTagKey] != ctx.Stack() {
		return fmt.Errorf("%s:monthlyBudgetUSD: the budget counts only resources tagged %s=%s; set aws:defaultTags to {\"tags\": {%q: %q}} in Pulumi.%s.yaml",
			configNamespace, stackTagKey, ctx.Stack(), stackTagKey, ctx.Stack(), ctx.Stack())
	}
	_, err := infra.NewBudget(ctx, "budget", &infra.BudgetArgs{
		Name:     budgetName(ctx.Stack()),
		LimitUSD: cfg.MonthlyBudgetUSD,
		Email:    cfg.BudgetEmail,
		TagKey:   stackTagKey,
		TagValue: ctx.Stack(),
	})
	return err
}

// maxBudgetName is the longest budget name: "The name of a budget ... 1-100
// characters" (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html).
// A Pulumi stack name alone may have 100.
const maxBudgetName = 100

// budgetName is the stack's budget name, unique per account (budgets are
// per account, not per region): imagelabel-<stack>, or for a stack name too
// long for that, its start and a short hash of the whole name.
func budgetName(stack string) string {
	name := "imagelabel-" + stack
	if len(name) <= maxBudgetName {
		return name
	}
	suffix := "-" + hexID(8, stack)
	return name[:maxBudgetName-len(suffix)] + suffix
}
