// Package cost is the cost estimate of `go run . plan`: fixed monthly costs
// read off the resources a plan (imagelabel/internal/plan) declares, and the
// cost of 1,000 uploads, from one price table per region with each price's
// source and date. Prices are list prices (no free tier, no Savings Plans);
// a region without a table, or a price a table lacks, gets no estimate
// rather than a guess.
package cost

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"imagelabel/infra"
	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// Item is one line of the estimate.
type Item struct {
	Resource   string  `json:"resource"`
	MonthlyUSD float64 `json:"monthlyUSD"`
	Basis      string  `json:"basis"`
}

// Estimate is the estimate the plan prints and adds to --json as "cost".
type Estimate struct {
	MonthlyUSD        float64 `json:"monthlyUSD"`
	Per1000UploadsUSD float64 `json:"per1000UploadsUSD"`
	Items             []Item  `json:"items"`
	// UploadItems break down per1000UploadsUSD (monthlyUSD is the cost of
	// 1,000 uploads in each).
	UploadItems []Item `json:"uploadItems"`
	Region      string `json:"region"`
	PricesAsOf  string `json:"pricesAsOf"`
	// Unavailable says why there is no estimate (no price table).
	Unavailable string `json:"unavailable,omitempty"`
}

// estimator accumulates items against one table; a missing price is
// recorded (the estimate is then withheld), never taken as zero.
type estimator struct {
	t       priceTable
	items   []Item
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
	e.items = append(e.items, Item{Resource: resource, MonthlyUSD: round4(usd), Basis: fmt.Sprintf(basis, args...)})
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// usd formats a price compactly ($0.045, $0.00000100).
func usd(f float64) string { return "$" + strconv.FormatFloat(f, 'f', -1, 64) }

// Of prices the plan's resources for the region. cfg gives what
// the plan cannot show (image retention, for storage). Without a table, or
// with a price missing from it, the estimate has no figures and says why.
func Of(p *plan.Result, region string, cfg stackconfig.Config) *Estimate {
	est := &Estimate{Region: region}
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
	fixedDomain(e, p)
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

// fixedNetwork prices NAT gateways, NAT instances and their volumes, public
// IPv4 addresses and interface endpoints.
func fixedNetwork(e *estimator, p *plan.Result) {
	for _, r := range p.Find("aws:ec2/natGateway:NatGateway") {
		e.add(r.Name+" (NAT gateway)", hoursPerMonth*e.p(pNATHour), "730 h x %s", usd(e.p(pNATHour)))
	}
	for _, r := range p.Find("aws:ec2/instance:Instance") {
		typ, _ := r.Inputs["instanceType"].(string)
		h := e.p(pInstanceHour + typ)
		e.add(r.Name+" (EC2 "+typ+")", hoursPerMonth*h, "730 h x %s", usd(h))
		gb := 8.0 // EC2's default root volume when none is stated
		if rb, ok := r.Inputs["rootBlockDevice"].(map[string]any); ok && plan.Num(rb["volumeSize"]) > 0 {
			gb = plan.Num(rb["volumeSize"])
		}
		e.add(r.Name+" (EBS gp3 root volume)", gb*e.p(pGP3GBMonth), "%g GB x %s", gb, usd(e.p(pGP3GBMonth)))
	}
	for _, r := range p.Find("aws:ec2/eip:Eip") {
		e.add(r.Name+" (public IPv4, Elastic IP)", hoursPerMonth*e.p(pIPv4Hour), "730 h x %s", usd(e.p(pIPv4Hour)))
	}
	for _, r := range p.Find("aws:ec2/vpcEndpoint:VpcEndpoint") {
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
func taskShapes(p *plan.Result) []taskShape {
	defs := map[string]*plan.Resource{}
	for _, td := range p.Find("aws:ecs/taskDefinition:TaskDefinition") {
		if arn, ok := td.Outputs["arn"].(string); ok {
			defs[arn] = td
		}
	}
	var out []taskShape
	for _, s := range p.Find("aws:ecs/service:Service") {
		td := defs[fmt.Sprint(s.Inputs["taskDefinition"])]
		if td == nil {
			continue
		}
		sh := taskShape{name: s.Name, vcpu: plan.Num(td.Inputs["cpu"]) / 1024, gb: plan.Num(td.Inputs["memory"]) / 1024, arch: "X86_64"}
		if rp, ok := td.Inputs["runtimePlatform"].(map[string]any); ok {
			if a, ok := rp["cpuArchitecture"].(string); ok {
				sh.arch = a
			}
		}
		n := plan.Num(s.Inputs["desiredCount"])
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
		base := math.Min(plan.Num(m["base"]), left)
		left -= base
		if m["capacityProvider"] == infra.CapacityFargateSpot {
			spot += base
			wSpot += plan.Num(m["weight"])
		} else {
			onDemand += base
			wOD += plan.Num(m["weight"])
		}
	}
	if left > 0 && wOD+wSpot > 0 {
		spot += left * wSpot / (wOD + wSpot)
		onDemand += left * wOD / (wOD + wSpot)
	}
	return onDemand, spot
}

// fixedTasks prices the Fargate vCPU and memory hours of desiredCount tasks.
func fixedTasks(e *estimator, p *plan.Result) {
	for _, t := range taskShapes(p) {
		if t.onDemand > 0 {
			cpu, mem := e.p(pFargateVCPU+t.arch), e.p(pFargateGB+t.arch)
			e.add(fmt.Sprintf("%s (Fargate %s on-demand)", t.name, t.arch),
				t.onDemand*hoursPerMonth*(t.vcpu*cpu+t.gb*mem),
				"%g task x 730 h x (%g vCPU x %s + %g GB x %s)", t.onDemand, t.vcpu, usd(cpu), t.gb, usd(mem))
		}
		if t.spot > 0 {
			cpu, mem := e.p(pFargateSpotVCPU+t.arch), e.p(pFargateSpotGB+t.arch)
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
func fixedDiscovery(e *estimator, p *plan.Result) {
	for _, r := range p.Find("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace") {
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
func fixedLogs(e *estimator, p *plan.Result) {
	groups := p.Find("aws:cloudwatch/logGroup:LogGroup")
	if n := float64(len(groups)); n > 0 {
		ing, st := e.p(pLogsIngestGB), e.p(pLogsStoreGB)
		days := 0.0
		for _, g := range groups {
			days += math.Min(plan.Num(g.Inputs["retentionInDays"]), 30)
		}
		// Steady state: a group holds retention days' worth of its monthly
		// ingestion (capped at one month: the estimate is of one month).
		stored := idleLogGBPerGroup * days / 30
		e.add(fmt.Sprintf("CloudWatch Logs (%d log groups, idle)", len(groups)),
			n*idleLogGBPerGroup*ing+stored*st,
			"%g groups x %g GB ingested x %s + %.4f GB stored x %s (assumed idle volume)", n, idleLogGBPerGroup, usd(ing), stored, usd(st))
	}
	for _, c := range p.Find("aws:ecs/cluster:Cluster") {
		settings, _ := c.Inputs["settings"].([]any)
		for _, s := range settings {
			m, _ := s.(map[string]any)
			if m["name"] == "containerInsights" && m["value"] == "enabled" {
				metrics := float64(insightsMetricsCluster + insightsMetricsService*len(p.Find("aws:ecs/service:Service")))
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
func perUpload(e *estimator, p *plan.Result, cfg stackconfig.Config) {
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
	case len(p.Find("aws:ec2/natGateway:NatGateway")) > 0:
		e.add("NAT gateway data processing", n*viaNAT/bytesPerGB*e.p(pNATGB), "1000 x %g B (DetectLabels call + log lines) x %s/GB", viaNAT, usd(e.p(pNATGB)))
	case len(p.Find("aws:ec2/instance:Instance")) > 0:
		e.add("NAT instance data processing", 0, "no per-GB charge: only the instance hours (data to AWS endpoints in the region is not billed as transfer)")
	case hasInterfaceEndpoints(p):
		e.add("Interface endpoint data processing", n*viaNAT/bytesPerGB*e.p(pEndpointGB), "1000 x %g B (DetectLabels call + log lines) x %s/GB", viaNAT, usd(e.p(pEndpointGB)))
	}
	lg := n * logBytesPerUpload / bytesPerGB
	e.add("CloudWatch Logs ingestion", lg*e.p(pLogsIngestGB), "1000 x %d B x %s/GB", logBytesPerUpload, usd(e.p(pLogsIngestGB)))
}

func hasInterfaceEndpoints(p *plan.Result) bool {
	for _, r := range p.Find("aws:ec2/vpcEndpoint:VpcEndpoint") {
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

// Write writes the estimate after the plan tree.
func Write(w io.Writer, c *Estimate) error {
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

// ForPlan estimates the plan's cost from the stack config it ran with
// (fully qualified keys, as plan.Model takes them).
func ForPlan(res *plan.Result, config map[string]string) (*Estimate, error) {
	cfg, err := stackconfig.Load(func(key string) (string, bool) {
		v, ok := config[stackconfig.Namespace+":"+key]
		return v, ok
	})
	if err != nil {
		return nil, err
	}
	region := config["aws:region"]
	if region == "" {
		region = plan.MockRegion
	}
	return Of(res, region, cfg), nil
}
