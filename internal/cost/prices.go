package cost

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
	pFargateVCPU     = "fargate vCPU-hour "      // + ECS architecture
	pFargateGB       = "fargate GB-hour "        // + ECS architecture
	pFargateSpotVCPU = "fargate spot vCPU-hour " // + ECS architecture
	pFargateSpotGB   = "fargate spot GB-hour "   // + ECS architecture
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
//
// Fargate Spot has run ARM64 tasks since September 2024 (see
// stackconfig's costKeys). The pricing page lists the Spot price of Linux/ARM
// beside Linux/X86 in a table it renders from a live feed, which no stored
// copy consulted had; the ARM64 figures below are therefore derived, not
// read: the X86_64 Spot price times the ARM64/X86_64 ratio of the on-demand
// prices (0.03238/0.04048 per vCPU-hour, 0.00356/0.004445 per GB-hour).
// The one regional Spot table found with both rows (sa-east-1, in a
// third-party copy) keeps exactly that relation, to five significant digits.
// Check the live row at srcFargate before relying on them; docs/cost.md
// says so beside the figures.
var priceTables = map[string]priceTable{
	"us-east-1": {AsOf: "2026-11-30", Prices: withPrices(usEastWestOnDemand, map[string]price{
		pFargateSpotVCPU + "X86_64": {0.01334058, srcFargate},
		pFargateSpotGB + "X86_64":   {0.00146489, srcFargate},
		pFargateSpotVCPU + "ARM64":  {0.01067115, srcFargate}, // derived, see above
		pFargateSpotGB + "ARM64":    {0.00117323, srcFargate}, // derived, see above
	})},
	"us-east-2": {AsOf: "2026-11-30", Prices: usEastWestOnDemand},
	"us-west-2": {AsOf: "2026-11-30", Prices: usEastWestOnDemand},
}
