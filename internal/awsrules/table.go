package awsrules

// The AWS input rules, by Pulumi resource type token, with their sources.
// Written by hand from the API references and the CloudFormation resource
// provider schemas (as shipped in aws-cloudformation/cfn-lint,
// src/cfnlint/data/schemas/providers/us_east_1/*.json), which carry the
// machine-readable patterns, enums and lengths. Property paths use Pulumi's
// camelCase input names.
//
// To register a new type: add an entry with its rules (names, descriptions,
// enums, ranges it sends), or with none: "<reason>" if it sends only IDs and
// booleans. A type the program declares without an entry fails
// TestAWSInputRules (and Check).

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// Sources.
const (
	srcCreateSG        = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html"
	srcSGRuleDesc      = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_UserIdGroupPair.html (also API_IpRange.html; terraform-provider-aws issue 18874)"
	srcIPPermission    = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html"
	srcVPCCIDR         = "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html"
	srcSubnetSize      = "https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html"
	srcEC2Tags         = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions"
	srcTagging         = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html"
	srcAllocateAddress = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AllocateAddress.html"
	srcCreateNAT       = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNatGateway.html"
	srcCreateVPCE      = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html"
	srcVPCEPolicy      = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html"
	srcFlowLogs        = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFlowLogs.html"
	srcRunInstances    = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html"
	srcIMDSOptions     = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMetadataOptionsRequest.html"
	srcUserData        = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html"
	srcEBSVolume       = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html"
	srcCreditSpec      = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreditSpecificationRequest.html"

	srcCreateCluster   = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html"
	srcClusterSetting  = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html"
	srcCapProviders    = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PutClusterCapacityProviders.html"
	srcCapStrategy     = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html"
	srcRegisterTaskDef = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html"
	srcContainerDef    = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
	srcPortMapping     = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html"
	srcHealthCheck     = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html"
	srcLogConfig       = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html"
	srcRuntimePlatform = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html"
	srcFargateSizes    = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size"
	srcStopTimeout     = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_timeout"
	srcECSQuotas       = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html"
	srcCreateService   = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"
	srcAwsVpcConfig    = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html"
	srcSCService       = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html"
	srcSCClientAlias   = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html"
	srcECSTags         = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html"

	srcCreateRepo   = "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html"
	srcECRLifecycle = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html"
	srcPutLifecycle = "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutLifecyclePolicy.html"

	srcCreateLogGroup  = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"
	srcRetention       = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html"
	srcCreateLogStream = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html"

	srcCreateRole    = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html"
	srcPutRolePolicy = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html"
	srcIAMQuotas     = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
	srcIAMTags       = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html#id_tags_rules_creating"

	srcBucketNaming   = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
	srcBucketPrefix   = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket#bucket_prefix"
	srcBucketPolicy   = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html"
	srcOwnership      = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_OwnershipControlsRule.html"
	srcSSEDefault     = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionByDefault.html"
	srcLifecycleRule  = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html"
	srcAbortMultipart = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortIncompleteMultipartUpload.html"

	srcHTTPNamespace = "https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html"
	srcDNSNamespace  = "https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html"
	srcDNSNames      = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html"
	srcCMService     = "https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html"
	srcCMDnsRecord   = "https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html"
	srcCMDnsConfig   = "https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsConfig.html"
	srcCMCustomHC    = "https://docs.aws.amazon.com/cloud-map/latest/api/API_HealthCheckCustomConfig.html"

	srcCreateAPI        = "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html"
	srcHTTPRoutes       = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html"
	srcHTTPStages       = "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages.html"
	srcHTTPLogging      = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html"
	srcHTTPQuotas       = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"
	srcAPIThrottle      = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
	srcParamMapping     = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html"
	srcPrivateInteg     = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html"
	srcIntegrations     = "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations.html"
	srcVPCLinks         = "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html"
	srcRegisterTarget   = "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html"
	srcPutScalingPolicy = "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html"
	srcPredefinedMetric = "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html"
	srcTargetTracking   = "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html"

	srcBudget        = "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html"
	srcCreateBudget  = "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_CreateBudget.html"
	srcNotification  = "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Notification.html"
	srcBudgetTF      = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/budgets_budget#time_period_start"
	srcBudgetsSchema = "CloudFormation AWS::Budgets::Budget schema (cfn-lint src/cfnlint/data/schemas/providers/us_east_1/aws-budgets-budget.json)"

	srcDockerTag = "https://docs.docker.com/reference/cli/docker/image/tag/"

	srcCreateInstanceProfile = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html"
	srcCreatePolicy          = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html"
	srcCreateRoute           = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateRoute.html"
	srcPutMetricAlarm        = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
)

// ---- shared rules ----

// ec2Chars is the set EC2 documents for security group names and
// descriptions: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*
const ec2Chars = "a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*"

// ec2RuleChars is the set for security group rule descriptions. The
// UserIdGroupPair and PrefixListId references omit '&' while IpRange and the
// API's error message ("Invalid rule description ... a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")
// include it; we accept the intersection.
const ec2RuleChars = "a-zA-Z0-9 ._-:/()#,@[]+=;{}!$*"

// tagChars is the character set every tagging service accepts: letters,
// numbers, spaces and _ . : / = + - @ (EC2 alone accepts more).
var tagCharsRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func tagChars(s string) string {
	if !tagCharsRE.MatchString(s) {
		return `has characters outside letters, numbers, spaces and _ . : / = + - @`
	}
	return ""
}

// tagRules constrain a resource's tags map: at most 50 tags, keys 1..128
// characters not starting with aws:, values up to 256 characters.
func tagRules(prefix, source string) []rule {
	p := "tags"
	if prefix != "" {
		p = prefix + ".tags"
	}
	return []rule{
		{p, "at most 50 user tags per resource", source, mapMaxItems(50)},
		{p + ".~", "tag key: 1-128 characters, not starting with aws:, tag character set", source,
			str(length(1, 128), notPrefixed("aws:"), tagChars)},
		{p + ".*", "tag value: up to 256 characters, tag character set", source, str(length(0, 256), tagChars)},
	}
}

// ecsName is the ECS rule for cluster, service, family and container names.
var ecsName = str(matches(`[a-zA-Z0-9_-]{1,255}`))

// scName is the ECS rule for port mapping names and Service Connect
// discovery names: up to 64 lowercase letters, numbers, _ and -, not
// starting with a hyphen.
var scName = str(matches(`[a-z0-9_][a-z0-9_-]{0,63}`))

// logGroupName is the CreateLogGroup pattern and length.
var logGroupName = str(length(1, 512), matches(`[\.\-_/#A-Za-z0-9]+`), notPrefixed("aws/"))

// logStreamPrefix: the awslogs driver names streams prefix/container/task
// id; stream names exclude ':' and '*'.
var logStreamPrefix = str(length(1, 400), func(s string) string {
	if strings.ContainsAny(s, ":*") {
		return "contains ':' or '*'"
	}
	return ""
})

var port = all(integer, between(1, 65535))

// dnsName requires a DNS name: labels of 1-63 letters, digits, hyphens (and
// _ for service labels), total at most 253 characters.
var dnsName = str(length(1, 253), matches(`([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?`))

// s3BucketName applies the general purpose bucket naming rules.
func s3BucketName(s string) string {
	for _, c := range []func(string) string{
		length(3, 63),
		matches(`[a-z0-9][a-z0-9.-]*[a-z0-9]`),
		notPrefixed("xn--", "sthree-", "amzn-s3-demo-"),
		notSuffixed("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"),
	} {
		if p := c(s); p != "" {
			return p
		}
	}
	if strings.Contains(s, "..") {
		return "contains two adjacent periods"
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "is formatted as an IP address"
	}
	return ""
}

// routeKey checks an HTTP API route key: $default, or a method and a path
// whose segments are literals or {variables}, a greedy {name+} only last.
func routeKey(s string) string {
	if s == "$default" {
		return ""
	}
	method, path, ok := strings.Cut(s, " ")
	if !ok {
		return "is not \"$default\" or \"METHOD /path\""
	}
	if !slices.Contains([]string{"ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}, method) {
		return fmt.Sprintf("method %q is not ANY, GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS", method)
	}
	if path == "/" {
		return ""
	}
	if !strings.HasPrefix(path, "/") {
		return "path does not start with /"
	}
	segs := strings.Split(path[1:], "/")
	lit := regexp.MustCompile(`^[A-Za-z0-9._~!$&'()*,;=:@%-]+$`)
	vr := regexp.MustCompile(`^\{[A-Za-z0-9._-]+\+?\}$`)
	for i, seg := range segs {
		switch {
		case lit.MatchString(seg):
		case vr.MatchString(seg):
			if strings.HasSuffix(seg, "+}") && i != len(segs)-1 {
				return fmt.Sprintf("greedy variable %s is not the last segment", seg)
			}
		default:
			return fmt.Sprintf("segment %q is neither a literal nor a {variable}", seg)
		}
	}
	return ""
}

// reservedHeaders may not be mapped by HTTP API parameter mapping.
var reservedHeaders = []string{"authorization", "connection", "content-encoding", "content-length", "content-location",
	"forwarded", "keep-alive", "origin", "proxy-authenticate", "proxy-authorization", "te", "trailers",
	"transfer-encoding", "upgrade", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "via"}

func paramMappingKey(s string) string {
	if p := matches(`(append|overwrite|remove):(header\.[A-Za-z0-9!#$%&'*+.^_|~-]+|querystring\.[^ ]+|path)`)(s); p != "" {
		return p
	}
	if h, ok := strings.CutPrefix(s[strings.Index(s, ":")+1:], "header."); ok {
		h = strings.ToLower(h)
		if slices.Contains(reservedHeaders, h) {
			return fmt.Sprintf("header %s is reserved", h)
		}
		for _, p := range []string{"access-control-", "apigw-", "x-amz-", "x-amzn-"} {
			if strings.HasPrefix(h, p) {
				return fmt.Sprintf("header prefix %s is reserved", p)
			}
		}
	}
	return ""
}

// accessLogFormat: HTTP API access logs must include the request ID.
func accessLogFormat(s string) string {
	if !strings.Contains(s, "$context.requestId") && !strings.Contains(s, "$context.extendedRequestId") {
		return "does not include $context.requestId or $context.extendedRequestId"
	}
	return ""
}

// fargateSize checks a task definition's cpu and memory pair.
func fargateSize(v any) string {
	in, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	cpu, okC := number(in["cpu"])
	mem, okM := number(in["memory"])
	if !okC || !okM {
		return ""
	}
	opts := stackconfig.FargateMemoryOptions(int(cpu))
	if opts == nil {
		return fmt.Sprintf("cpu %g is not a Fargate size", cpu)
	}
	if !slices.Contains(opts, int(mem)) {
		return fmt.Sprintf("memory %g MiB is not valid with cpu %g (allowed %v)", mem, cpu, opts)
	}
	return ""
}

// portsOrdered: fromPort <= toPort, and -1 for both only with protocol -1
// or ICMP.
func portsOrdered(v any) string {
	in, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	from, okF := number(in["fromPort"])
	to, okT := number(in["toPort"])
	proto, _ := in["ipProtocol"].(string)
	if okF && okT && (proto == "tcp" || proto == "udp" || proto == "6" || proto == "17") && from > to {
		return fmt.Sprintf("fromPort %g is greater than toPort %g", from, to)
	}
	return ""
}

// launchTypeOrStrategy: "If a capacityProviderStrategy is specified, the
// launchType parameter must be omitted" (CreateService).
func launchTypeOrStrategy(v any) string {
	in, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	strategies, _ := in["capacityProviderStrategies"].([]any)
	if lt, set := in["launchType"].(string); set && lt != "" && len(strategies) > 0 {
		return fmt.Sprintf("launchType %s is set together with %d capacity provider strategies", lt, len(strategies))
	}
	return ""
}

// minMax: minCapacity <= maxCapacity.
func minMax(v any) string {
	in, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	lo, okL := number(in["minCapacity"])
	hi, okH := number(in["maxCapacity"])
	if okL && okH && lo > hi {
		return fmt.Sprintf("minCapacity %g is greater than maxCapacity %g", lo, hi)
	}
	return ""
}

// sgRuleRules are the rules of the vpc security group rule resources and of
// inline ingress/egress blocks (prefix "ingress.*." etc.).
func sgRuleRules(prefix string) []rule {
	return []rule{
		{prefix + "description", "security group rule description: at most 255 characters of " + ec2RuleChars, srcSGRuleDesc,
			str(length(0, 255), charsIn(ec2RuleChars))},
		{prefix + "ipProtocol", "IP protocol: tcp, udp, icmp, icmpv6, -1 or a protocol number", srcIPPermission,
			str(matches(`tcp|udp|icmp|icmpv6|-1|[0-9]{1,3}`))},
		{prefix + "protocol", "IP protocol: tcp, udp, icmp, icmpv6, -1 or a protocol number", srcIPPermission,
			str(matches(`tcp|udp|icmp|icmpv6|-1|all|[0-9]{1,3}`))},
		{prefix + "fromPort", "port: -1..65535", srcIPPermission, all(integer, between(-1, 65535))},
		{prefix + "toPort", "port: -1..65535", srcIPPermission, all(integer, between(-1, 65535))},
		{prefix + "cidrIpv4", "IPv4 CIDR block", srcIPPermission, ipv4CIDR(0, 32)},
		{prefix + "cidrBlocks.*", "IPv4 CIDR block", srcIPPermission, ipv4CIDR(0, 32)},
	}
}

// ---- the table ----

// awsRules maps every resource type the program declares (and those it is
// about to declare) to its rules.
var awsRules = map[string]typeRules{
	"aws:ec2/securityGroup:SecurityGroup": {
		auto: &autoName{prop: "name", prefixBy: "namePrefix"},
		rules: append([]rule{
			{"description", "security group description: at most 255 characters of " + ec2Chars, srcCreateSG,
				str(length(0, 255), charsIn(ec2Chars))},
			{"name", "security group name: 1-255 characters of " + ec2Chars + ", not starting with sg-", srcCreateSG,
				str(length(1, 255), charsIn(ec2Chars), notPrefixed("sg-"))},
			{"namePrefix", "security group name prefix: characters of " + ec2Chars + ", not starting with sg-", srcCreateSG,
				str(length(1, 229), charsIn(ec2Chars), notPrefixed("sg-"))},
		}, append(append(sgRuleRules("ingress.*."), sgRuleRules("egress.*.")...), tagRules("", srcEC2Tags)...)...),
	},
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {
		rules: append(append(sgRuleRules("ingress.*."), sgRuleRules("egress.*.")...), tagRules("", srcEC2Tags)...),
	},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
		rules: append(append(sgRuleRules(""), rule{"", "fromPort <= toPort", srcIPPermission, portsOrdered}), tagRules("", srcEC2Tags)...),
	},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
		rules: append(append(sgRuleRules(""), rule{"", "fromPort <= toPort", srcIPPermission, portsOrdered}), tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/vpc:Vpc": {
		rules: append([]rule{
			{"cidrBlock", "VPC IPv4 CIDR block between /16 and /28", srcVPCCIDR, ipv4CIDR(16, 28)},
			{"instanceTenancy", "tenancy: default or dedicated", srcVPCCIDR, oneOf("default", "dedicated")},
		}, tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/subnet:Subnet": {
		rules: append([]rule{
			{"cidrBlock", "subnet IPv4 CIDR block between /16 and /28", srcSubnetSize, ipv4CIDR(16, 28)},
		}, tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/internetGateway:InternetGateway": {rules: tagRules("", srcEC2Tags)},
	"aws:ec2/routeTable:RouteTable": {
		rules: append([]rule{
			{"routes.*.cidrBlock", "route destination IPv4 CIDR block", srcCreateRoute, ipv4CIDR(0, 32)},
		}, tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": {none: "sends only a route table ID and a subnet or gateway ID"},
	"aws:ec2/eip:Eip": {
		rules: append([]rule{
			{"domain", "address domain: vpc or standard", srcAllocateAddress, oneOf("vpc", "standard")},
		}, tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/natGateway:NatGateway": {
		rules: append([]rule{
			{"connectivityType", "connectivity type: public or private", srcCreateNAT, oneOf("public", "private")},
		}, tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/vpcEndpoint:VpcEndpoint": {
		rules: append([]rule{
			{"vpcEndpointType", "endpoint type", srcCreateVPCE, oneOf("Interface", "Gateway", "GatewayLoadBalancer", "ServiceNetwork", "Resource")},
			{"ipAddressType", "IP address type", srcCreateVPCE, oneOf("ipv4", "ipv6", "dualstack")},
			{"serviceName", "service name: com.amazonaws.<region>.<service> or an endpoint service name", srcCreateVPCE,
				str(matches(`(com\.amazonaws|aws\.[a-z0-9-]+)\.[a-z0-9.-]+`))},
			{"policy", "endpoint policy: JSON policy of at most 20,480 characters, whitespace included", srcVPCEPolicy,
				iamPolicy(20480, false)},
			{"securityGroupIds", "at most 5 security groups per interface endpoint", srcCreateVPCE, maxItems(5)},
		}, tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/flowLog:FlowLog": {
		rules: append([]rule{
			{"trafficType", "traffic type", srcFlowLogs, oneOf("ACCEPT", "REJECT", "ALL")},
			{"logDestinationType", "log destination type", srcFlowLogs, oneOf("cloud-watch-logs", "s3", "kinesis-data-firehose")},
			{"maxAggregationInterval", "aggregation interval: 60 or 600 seconds", srcFlowLogs, numOneOf(60, 600)},
		}, tagRules("", srcEC2Tags)...),
	},
	"aws:ec2/instance:Instance": {
		rules: append([]rule{
			{"instanceType", "instance type: family.size", srcRunInstances, str(matches(`[a-z][a-z0-9-]*\.[a-z0-9-]+`))},
			{"metadataOptions.httpTokens", "IMDS tokens: optional or required", srcIMDSOptions, oneOf("optional", "required")},
			{"metadataOptions.httpEndpoint", "IMDS endpoint: enabled or disabled", srcIMDSOptions, oneOf("enabled", "disabled")},
			{"metadataOptions.httpPutResponseHopLimit", "IMDS hop limit 1..64", srcIMDSOptions, all(integer, between(1, 64))},
			{"metadataOptions.instanceMetadataTags", "instance tags in IMDS: enabled or disabled", srcIMDSOptions, oneOf("enabled", "disabled")},
			{"userData", "user data: at most 16 KB before base64 encoding", srcUserData, str(func(s string) string {
				if len(s) > 16*1024 {
					return fmt.Sprintf("is %d bytes, at most 16384 allowed", len(s))
				}
				return ""
			})},
			{"creditSpecification.cpuCredits", "burstable CPU credits: standard or unlimited", srcCreditSpec, oneOf("standard", "unlimited")},
			{"rootBlockDevice.volumeType", "EBS volume type", srcEBSVolume, oneOf("standard", "io1", "io2", "gp2", "gp3", "sc1", "st1")},
			{"rootBlockDevice.volumeSize", "EBS volume size 1..65536 GiB", srcEBSVolume, all(integer, between(1, 65536))},
			{"vpcSecurityGroupIds", "security groups of an instance's network interface: at most 5 (default quota)", srcRunInstances, maxItems(5)},
		}, tagRules("", srcEC2Tags)...),
	},

	"aws:ecs/cluster:Cluster": {
		auto: &autoName{prop: "name"},
		rules: append([]rule{
			{"name", "cluster name: 1-255 letters, numbers, _ and -", srcCreateCluster, ecsName},
			{"settings.*.name", "cluster setting name", srcClusterSetting, oneOf("containerInsights")},
			{"settings.*.value", "containerInsights: enhanced, enabled or disabled", srcClusterSetting, oneOf("enhanced", "enabled", "disabled")},
		}, tagRules("", srcECSTags)...),
	},
	"aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": {
		rules: []rule{
			{"clusterName", "cluster name: 1-255 letters, numbers, _ and -", srcCreateCluster, ecsName},
			{"capacityProviders.*", "capacity provider: FARGATE, FARGATE_SPOT or a provider name (1-255 letters, numbers, _ and -)", srcCapProviders, ecsName},
			{"defaultCapacityProviderStrategies.*.base", "strategy base 0..100000", srcCapStrategy, all(integer, between(0, 100000))},
			{"defaultCapacityProviderStrategies.*.weight", "strategy weight 0..1000", srcCapStrategy, all(integer, between(0, 1000))},
			{"defaultCapacityProviderStrategies.*.capacityProvider", "capacity provider name", srcCapStrategy, ecsName},
		},
	},
	"aws:ecs/taskDefinition:TaskDefinition": {
		rules: append([]rule{
			{"family", "family: 1-255 letters, numbers, _ and -", srcRegisterTaskDef, ecsName},
			{"", "Fargate cpu/memory combination", srcFargateSizes, fargateSize},
			{"networkMode", "network mode (Fargate requires awsvpc)", srcRegisterTaskDef, oneOf("awsvpc")},
			{"requiresCompatibilities.*", "launch type compatibility", srcRegisterTaskDef, oneOf("EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES")},
			{"runtimePlatform.cpuArchitecture", "CPU architecture", srcRuntimePlatform, oneOf("X86_64", "ARM64")},
			{"runtimePlatform.operatingSystemFamily", "operating system family (Linux here)", srcRuntimePlatform, oneOf("LINUX")},
			{"containerDefinitions", "task definition size: at most 64 KiB", srcECSQuotas, str(func(s string) string {
				if len(s) > 64*1024 {
					return fmt.Sprintf("container definitions are %d bytes, the task definition limit is 65536", len(s))
				}
				return ""
			})},
			{"containerDefinitions.@json", "container definitions: a JSON list of 1-10 containers", srcRegisterTaskDef, func(v any) string {
				l, ok := v.([]any)
				if !ok || len(l) < 1 || len(l) > 10 {
					return "is not a list of 1 to 10 container definitions"
				}
				return ""
			}},
			{"containerDefinitions.@json.*.name", "container name: 1-255 letters, numbers, _ and -", srcContainerDef, ecsName},
			{"containerDefinitions.@json.*.image", "image: up to 255 letters, numbers, - _ : . / # (and @ of a digest reference)", srcContainerDef,
				str(length(1, 255), matches(`[A-Za-z0-9._:/#@-]+`))},
			{"containerDefinitions.@json.*.stopTimeout", "stopTimeout on Fargate: at most 120 seconds", srcStopTimeout, all(integer, between(0, 120))},
			{"containerDefinitions.@json.*.portMappings.*.name", "port mapping name: up to 64 lowercase letters, numbers, _ and -, not starting with -", srcPortMapping, scName},
			{"containerDefinitions.@json.*.portMappings.*.containerPort", "container port 1..65535", srcPortMapping, port},
			{"containerDefinitions.@json.*.portMappings.*.hostPort", "host port 1..65535", srcPortMapping, port},
			{"containerDefinitions.@json.*.portMappings.*.protocol", "port mapping protocol", srcPortMapping, oneOf("tcp", "udp")},
			{"containerDefinitions.@json.*.portMappings.*.appProtocol", "application protocol", srcPortMapping, oneOf("http", "http2", "grpc")},
			{"containerDefinitions.@json.*.healthCheck.interval", "health check interval 5..300 s", srcHealthCheck, all(integer, between(5, 300))},
			{"containerDefinitions.@json.*.healthCheck.timeout", "health check timeout 2..120 s", srcHealthCheck, all(integer, between(2, 120))},
			{"containerDefinitions.@json.*.healthCheck.retries", "health check retries 1..10", srcHealthCheck, all(integer, between(1, 10))},
			{"containerDefinitions.@json.*.healthCheck.startPeriod", "health check start period 0..300 s", srcHealthCheck, all(integer, between(0, 300))},
			{"containerDefinitions.@json.*.logConfiguration.logDriver", "log driver on Fargate: awslogs, splunk or awsfirelens", srcLogConfig, oneOf("awslogs", "splunk", "awsfirelens")},
			{"containerDefinitions.@json.*.logConfiguration.options.awslogs-group", "awslogs-group: a log group name", srcCreateLogGroup, logGroupName},
			{"containerDefinitions.@json.*.logConfiguration.options.awslogs-stream-prefix", "awslogs-stream-prefix: no ':' or '*' (log stream names)", srcCreateLogStream, logStreamPrefix},
		}, tagRules("", srcECSTags)...),
	},
	"aws:ecs/service:Service": {
		auto: &autoName{prop: "name"},
		rules: append([]rule{
			{"name", "service name: 1-255 letters, numbers, _ and -", srcCreateService, ecsName},
			{"launchType", "launch type", srcCreateService, oneOf("EC2", "FARGATE", "EXTERNAL")},
			{"propagateTags", "propagateTags", srcCreateService, oneOf("TASK_DEFINITION", "SERVICE", "NONE")},
			{"desiredCount", "desiredCount >= 0", srcCreateService, all(integer, between(0, 1e9))},
			{"networkConfiguration.subnets", "awsvpc: at most 16 subnets", srcAwsVpcConfig, maxItems(16)},
			{"networkConfiguration.securityGroups", "awsvpc: at most 5 security groups", srcAwsVpcConfig, maxItems(5)},
			{"serviceConnectConfiguration.services.*.discoveryName", "Service Connect discovery name: up to 64 lowercase letters, numbers, _ and -, not starting with -", srcSCService, scName},
			{"serviceConnectConfiguration.services.*.portName", "Service Connect port name: a port mapping name", srcSCService, scName},
			{"serviceConnectConfiguration.services.*.clientAlias", "Service Connect: at most one client alias per service", srcSCService, maxItems(1)},
			{"serviceConnectConfiguration.services.*.clientAlias.*.port", "client alias port 1..65535", srcSCClientAlias, port},
			{"serviceConnectConfiguration.services.*.clientAlias.*.dnsName", "client alias DNS name: up to 127 lowercase letters, numbers, _ - and ., not starting with -", srcSCClientAlias,
				str(length(1, 127), matches(`[a-z0-9_.][a-z0-9_.-]*`))},
			{"serviceConnectConfiguration.services.*.ingressPortOverride", "ingress port override 1..65535", srcSCService, port},
			{"serviceConnectConfiguration.logConfiguration.logDriver", "Service Connect log driver on Fargate", srcLogConfig, oneOf("awslogs", "splunk", "awsfirelens")},
			{"serviceConnectConfiguration.logConfiguration.options.awslogs-group", "awslogs-group: a log group name", srcCreateLogGroup, logGroupName},
			{"serviceConnectConfiguration.logConfiguration.options.awslogs-stream-prefix", "awslogs-stream-prefix: no ':' or '*'", srcCreateLogStream, logStreamPrefix},
			{"serviceRegistries.containerName", "service registry container name", srcContainerDef, ecsName},
			{"serviceRegistries.containerPort", "service registry container port 1..65535", srcCreateService, port},
			{"healthCheckGracePeriodSeconds", "health check grace period 0..2147483647 s", srcCreateService, all(integer, between(0, 2147483647))},
			{"capacityProviderStrategies.*.capacityProvider", "capacity provider name", srcCapStrategy, ecsName},
			{"capacityProviderStrategies.*.base", "strategy base 0..100000", srcCapStrategy, all(integer, between(0, 100000))},
			{"capacityProviderStrategies.*.weight", "strategy weight 0..1000", srcCapStrategy, all(integer, between(0, 1000))},
			{"", "launchType and capacityProviderStrategies are exclusive", srcCreateService, launchTypeOrStrategy},
		}, tagRules("", srcECSTags)...),
	},

	"aws:ecr/repository:Repository": {
		auto: &autoName{prop: "name"},
		rules: append([]rule{
			{"name", "repository name: 2-256 characters, lowercase path components separated by / with . _ - inside", srcCreateRepo,
				str(length(2, 256), matches(`(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`))},
			{"imageTagMutability", "image tag mutability", srcCreateRepo, oneOf("MUTABLE", "IMMUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION")},
			{"encryptionConfigurations.*.encryptionType", "encryption type", srcCreateRepo, oneOf("AES256", "KMS", "KMS_DSSE")},
		}, tagRules("", srcCreateRepo)...),
	},
	"aws:ecr/lifecyclePolicy:LifecyclePolicy": {
		rules: []rule{
			{"policy", "lifecycle policy text: JSON object of 100-30,720 characters", srcPutLifecycle, str(length(100, 30720), jsonObject)},
			{"policy.@json.rules.*.rulePriority", "rule priority: a unique integer >= 1", srcECRLifecycle, all(integer, between(1, 1e9))},
			{"policy.@json.rules.*.description", "rule description", srcECRLifecycle, str(length(0, 1024))},
			{"policy.@json.rules.*.selection.tagStatus", "tagStatus", srcECRLifecycle, oneOf("tagged", "untagged", "any")},
			{"policy.@json.rules.*.selection.countType", "countType", srcECRLifecycle, oneOf("imageCountMoreThan", "sinceImagePushed")},
			{"policy.@json.rules.*.selection.countNumber", "countNumber: integer > 0", srcECRLifecycle, all(integer, between(1, 1e9))},
			{"policy.@json.rules.*.action.type", "action type", srcECRLifecycle, oneOf("expire")},
		},
	},

	"aws:cloudwatch/logGroup:LogGroup": {
		auto: &autoName{prop: "name", prefixBy: "namePrefix"},
		rules: append([]rule{
			{"name", "log group name: 1-512 of a-z A-Z 0-9 _ - / . #, not starting with aws/", srcCreateLogGroup, logGroupName},
			{"retentionInDays", "retention: one of CloudWatch Logs' values", srcRetention,
				numOneOf(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)},
			{"logGroupClass", "log group class", srcCreateLogGroup, oneOf("STANDARD", "INFREQUENT_ACCESS", "DELIVERY")},
		}, tagRules("", srcCreateLogGroup)...),
	},

	"aws:iam/role:Role": {
		// pulumi-aws auto-names roles with at most 64 characters.
		auto: &autoName{prop: "name", prefixBy: "namePrefix"},
		rules: append([]rule{
			{"name", "role name: 1-64 of letters, digits and +=,.@_-", srcCreateRole, str(matches(`[\w+=,.@-]{1,64}`))},
			{"namePrefix", "role name prefix: at most 38 of letters, digits and +=,.@_- (26 generated characters follow)", srcCreateRole, str(matches(`[\w+=,.@-]{1,38}`))},
			{"path", "path: / or /segments/, at most 512 characters", srcCreateRole, str(length(1, 512), matches(`/|/[\x21-\x7E]+/`))},
			{"description", "role description: at most 1000 characters of tab, LF, CR, U+0020-U+007E, U+00A1-U+00FF", srcCreateRole,
				str(length(0, 1000), matches(`[\t\n\r\x{20}-\x{7E}\x{A1}-\x{FF}]*`))},
			{"assumeRolePolicy", "trust policy: JSON policy of at most 2,048 non-whitespace characters (default quota)", srcIAMQuotas, iamPolicy(2048, true)},
			{"maxSessionDuration", "max session duration 3600..43200 s", srcCreateRole, all(integer, between(3600, 43200))},
			{"managedPolicyArns", "managed policies per role: at most 10 (default quota)", srcIAMQuotas, maxItems(10)},
			{"inlinePolicies.*.policy", "inline policy: JSON policy", srcPutRolePolicy, iamPolicy(10240, true)},
		}, tagRules("", srcIAMTags)...),
	},
	"aws:iam/rolePolicy:RolePolicy": {
		auto: &autoName{prop: "name", prefixBy: "namePrefix"},
		rules: []rule{
			{"name", "inline policy name: 1-128 of letters, digits and +=,.@_-", srcPutRolePolicy, str(matches(`[\w+=,.@-]{1,128}`))},
			{"policy", "inline policy: JSON policy document (the role's inline policies together: at most 10,240 non-whitespace characters)", srcIAMQuotas, iamPolicy(10240, true)},
		},
	},

	"aws:s3/bucketV2:BucketV2": {
		// pulumi-aws auto-names buckets lowercased, at most 63 characters.
		auto: &autoName{prop: "bucket", prefixBy: "bucketPrefix", lowercase: true},
		rules: append([]rule{
			{"bucket", "bucket name: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit, no .., not an IP, no reserved prefix or suffix", srcBucketNaming, str(s3BucketName)},
			{"bucketPrefix", "bucket prefix: at most 37 characters, lowercase letters, digits, . and -", srcBucketPrefix, str(length(1, 37), matches(`[a-z0-9][a-z0-9.-]*`))},
		}, tagRules("", srcTagging)...),
	},
	"aws:s3/bucketPolicy:BucketPolicy": {
		rules: []rule{
			{"policy", "bucket policy: JSON policy of at most 20 KB", srcBucketPolicy, iamPolicy(20*1024, false)},
		},
	},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {none: "sends only the bucket name and four booleans"},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
		rules: []rule{{"rule.objectOwnership", "object ownership", srcOwnership, oneOf("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced")}},
	},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {
		rules: []rule{{"rules.*.applyServerSideEncryptionByDefault.sseAlgorithm", "SSE algorithm", srcSSEDefault, oneOf("AES256", "aws:kms", "aws:kms:dsse")}},
	},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {
		rules: []rule{
			{"rules", "at most 1,000 lifecycle rules", srcLifecycleRule, maxItems(1000)},
			{"rules.*.id", "rule ID: at most 255 characters", srcLifecycleRule, str(length(0, 255))},
			{"rules.*.status", "rule status", srcLifecycleRule, oneOf("Enabled", "Disabled")},
			{"rules.*.expiration.days", "expiration days: a positive integer", srcLifecycleRule, all(integer, between(1, 1e9))},
			{"rules.*.abortIncompleteMultipartUpload.daysAfterInitiation", "days after initiation: a positive integer", srcAbortMultipart, all(integer, between(1, 1e9))},
			{"rules.*.filter.prefix", "prefix: at most 1,024 characters", srcLifecycleRule, str(length(0, 1024))},
		},
	},

	"aws:servicediscovery/httpNamespace:HttpNamespace": {
		rules: append([]rule{
			{"name", "HTTP namespace name: 1-1024 printable ASCII characters without spaces, not an ARN", srcHTTPNamespace,
				str(length(1, 1024), matches(`[!-~]+`), notPrefixed("arn:"))},
			{"description", "namespace description: at most 1024 characters", srcHTTPNamespace, str(length(0, 1024))},
		}, tagRules("", srcHTTPNamespace)...),
	},
	"aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": {
		rules: append([]rule{
			{"name", "private DNS namespace name: printable ASCII, not an ARN, and a DNS domain name (labels 1-63, total 253)", srcDNSNamespace + " and " + srcDNSNames,
				all(str(length(1, 1024), matches(`[!-~]+`), notPrefixed("arn:")), dnsName)},
			{"description", "namespace description: at most 1024 characters", srcDNSNamespace, str(length(0, 1024))},
		}, tagRules("", srcDNSNamespace)...),
	},
	"aws:servicediscovery/service:Service": {
		auto: &autoName{prop: "name"},
		rules: append([]rule{
			{"name", "Cloud Map service name: DNS labels of letters, digits, _ and - (1-63 each), at most 127 characters", srcCMService,
				str(length(1, 127), matches(`([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9_])(\.([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9_]))*`))},
			{"description", "service description: at most 1024 characters", srcCMService, str(length(0, 1024))},
			{"dnsConfig.dnsRecords.*.type", "DNS record type", srcCMDnsRecord, oneOf("SRV", "A", "AAAA", "CNAME")},
			{"dnsConfig.dnsRecords.*.ttl", "DNS record TTL 0..2147483647 s", srcCMDnsRecord, all(integer, between(0, 2147483647))},
			{"dnsConfig.routingPolicy", "routing policy", srcCMDnsConfig, oneOf("MULTIVALUE", "WEIGHTED")},
			{"healthCheckCustomConfig.failureThreshold", "custom health check failure threshold 1..10", srcCMCustomHC, all(integer, between(1, 10))},
		}, tagRules("", srcCMService)...),
	},

	"aws:apigatewayv2/api:Api": {
		auto: &autoName{prop: "name"},
		rules: append([]rule{
			{"name", "API name: required, non-empty", srcCreateAPI, str(length(1, 1<<20))},
			{"protocolType", "protocol type", srcCreateAPI, oneOf("HTTP", "WEBSOCKET")},
			{"description", "API description: at most 1024 characters", srcCreateAPI, str(length(0, 1024))},
		}, tagRules("", srcTagging)...),
	},
	"aws:apigatewayv2/vpcLink:VpcLink": {
		rules: append([]rule{
			{"name", "VPC link name: required, non-empty", srcVPCLinks, str(length(1, 1<<20))},
		}, tagRules("", srcTagging)...),
	},
	"aws:apigatewayv2/integration:Integration": {
		rules: []rule{
			{"integrationType", "HTTP API integration type", srcIntegrations, oneOf("AWS_PROXY", "HTTP_PROXY")},
			{"connectionType", "connection type", srcIntegrations, oneOf("INTERNET", "VPC_LINK")},
			{"integrationMethod", "integration method", srcIntegrations, oneOf("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")},
			{"payloadFormatVersion", "payload format version (private integrations: 1.0)", srcPrivateInteg, oneOf("1.0", "2.0")},
			{"timeoutMilliseconds", "HTTP API integration timeout 50..30000 ms", srcHTTPQuotas, all(integer, between(50, 30000))},
			{"requestParameters.~", "parameter mapping key: append|overwrite|remove:header.<name>|querystring.<name>|path, no reserved header", srcParamMapping, str(paramMappingKey)},
			{"description", "integration description: at most 1024 characters", srcIntegrations, str(length(0, 1024))},
		},
	},
	"aws:apigatewayv2/route:Route": {
		rules: []rule{
			{"routeKey", "route key: $default or METHOD /path, greedy {proxy+} last", srcHTTPRoutes, str(routeKey)},
			{"target", "route target: integrations/<id>", srcHTTPRoutes, str(matches(`integrations/[A-Za-z0-9]+`))},
			{"authorizationType", "authorization type (HTTP APIs)", srcHTTPRoutes, oneOf("NONE", "JWT", "AWS_IAM", "CUSTOM")},
		},
	},
	"aws:apigatewayv2/stage:Stage": {
		rules: append([]rule{
			{"name", "stage name: $default, or 1-128 letters, digits, - and _", srcHTTPStages, str(matches(`\$default|[A-Za-z0-9_-]{1,128}`))},
			{"defaultRouteSettings.throttlingRateLimit", "stage rate limit 0..10000 rps (account quota)", srcAPIThrottle, between(0, 10000)},
			{"defaultRouteSettings.throttlingBurstLimit", "stage burst limit 0..5000 (account quota)", srcAPIThrottle, all(integer, between(0, 5000))},
			{"accessLogSettings.format", "access log format: includes $context.requestId", srcHTTPLogging, str(accessLogFormat)},
			{"accessLogSettings.destinationArn", "access log destination: a log group ARN (no :* suffix)", srcHTTPLogging,
				str(matches(`arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[\.\-_/#A-Za-z0-9]+`))},
		}, tagRules("", srcTagging)...),
	},

	"aws:appautoscaling/target:Target": {
		rules: append([]rule{
			{"serviceNamespace", "service namespace", srcRegisterTarget, oneOf("ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker", "custom-resource", "comprehend", "lambda", "cassandra", "kafka", "elasticache", "neptune", "workspaces")},
			{"scalableDimension", "scalable dimension (ECS services: ecs:service:DesiredCount)", srcRegisterTarget, oneOf("ecs:service:DesiredCount")},
			{"resourceId", "ECS resource ID: service/<cluster>/<service>, 1-1600 characters", srcRegisterTarget, str(length(1, 1600), matches(`service/[a-zA-Z0-9_-]{1,255}/[a-zA-Z0-9_-]{1,255}`))},
			{"minCapacity", "min capacity >= 0", srcRegisterTarget, all(integer, between(0, 1e9))},
			{"maxCapacity", "max capacity >= 0", srcRegisterTarget, all(integer, between(0, 1e9))},
			{"", "minCapacity <= maxCapacity", srcRegisterTarget, minMax},
		}, tagRules("", srcRegisterTarget)...),
	},
	"aws:appautoscaling/policy:Policy": {
		auto: &autoName{prop: "name"},
		rules: []rule{
			{"name", "policy name: 1-256 printable characters", srcPutScalingPolicy, str(length(1, 256), matches(`\P{C}+`))},
			{"policyType", "policy type", srcPutScalingPolicy, oneOf("TargetTrackingScaling", "StepScaling", "PredictiveScaling")},
			{"resourceId", "ECS resource ID: service/<cluster>/<service>", srcPutScalingPolicy, str(length(1, 1600), matches(`service/[a-zA-Z0-9_-]{1,255}/[a-zA-Z0-9_-]{1,255}`))},
			{"targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType", "predefined metric for an ECS service", srcPredefinedMetric,
				oneOf("ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget")},
			{"targetTrackingScalingPolicyConfiguration.targetValue", "target value: 8.515920e-109..6.174597e+307", srcTargetTracking, between(8.515920e-109, 6.174597e+307)},
			{"targetTrackingScalingPolicyConfiguration.scaleInCooldown", "scale-in cooldown >= 0 s", srcTargetTracking, all(integer, between(0, 1e9))},
			{"targetTrackingScalingPolicyConfiguration.scaleOutCooldown", "scale-out cooldown >= 0 s", srcTargetTracking, all(integer, between(0, 1e9))},
		},
	},

	"aws:budgets/budget:Budget": {
		auto: &autoName{prop: "name", prefixBy: "namePrefix"},
		rules: append([]rule{
			{"name", "budget name: 1-100 characters without : or \\ and without /action/", srcBudget,
				str(length(1, 100), func(s string) string {
					if strings.ContainsAny(s, `:\`) || strings.Contains(s, "/action/") {
						return `contains ':', '\' or "/action/"`
					}
					return ""
				})},
			{"budgetType", "budget type", srcBudget, oneOf("USAGE", "COST", "RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE")},
			{"timeUnit", "time unit", srcBudget, oneOf("DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY", "CUSTOM")},
			{"limitAmount", "limit amount: a decimal number", srcBudget, str(matches(`[0-9]*(\.)?[0-9]+`))},
			{"limitUnit", "limit unit (cost budgets: USD)", srcBudget, str(length(1, 2147483647))},
			{"notifications.*.comparisonOperator", "notification comparison", srcNotification, oneOf("GREATER_THAN", "LESS_THAN", "EQUAL_TO")},
			{"notifications.*.notificationType", "notification type", srcNotification, oneOf("ACTUAL", "FORECASTED")},
			{"notifications.*.thresholdType", "threshold type", srcNotification, oneOf("PERCENTAGE", "ABSOLUTE_VALUE")},
			{"notifications.*.threshold", "threshold 0.1..1e9", srcBudgetsSchema, between(0.1, 1e9)},
			{"notifications.*.subscriberEmailAddresses", "at most 10 email subscribers per notification", srcCreateBudget, maxItems(10)},
			{"notifications.*.subscriberEmailAddresses.*", "subscriber address: an email address", srcCreateBudget, str(length(1, 2147483647), matches(`[^@\s]+@[^@\s]+\.[^@\s]+`))},
			{"notifications.*.subscriberSnsTopicArns", "at most 1 SNS subscriber per notification", srcCreateBudget, maxItems(1)},
			{"timePeriodStart", "time period start: YYYY-MM-DD_hh:mm", srcBudgetTF, str(matches(`[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}:[0-9]{2}`))},
			{"timePeriodEnd", "time period end: YYYY-MM-DD_hh:mm", srcBudgetTF, str(matches(`[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}:[0-9]{2}`))},
		}, tagRules("", srcTagging)...),
	},

	// Types the NAT instance, endpoints and budget work is likely to add.
	"aws:ec2/route:Route": {
		rules: []rule{
			{"destinationCidrBlock", "route destination IPv4 CIDR block", srcCreateRoute, ipv4CIDR(0, 32)},
		},
	},
	"aws:iam/instanceProfile:InstanceProfile": {
		auto: &autoName{prop: "name", prefixBy: "namePrefix"},
		rules: append([]rule{
			{"name", "instance profile name: 1-128 of letters, digits and +=,.@_-", srcCreateInstanceProfile, str(matches(`[\w+=,.@-]{1,128}`))},
			{"path", "path: / or /segments/, at most 512 characters", srcCreateInstanceProfile, str(length(1, 512), matches(`/|/[\x21-\x7E]+/`))},
		}, tagRules("", srcIAMTags)...),
	},
	"aws:iam/policy:Policy": {
		auto: &autoName{prop: "name", prefixBy: "namePrefix"},
		rules: append([]rule{
			{"name", "policy name: 1-128 of letters, digits and +=,.@_-", srcCreatePolicy, str(matches(`[\w+=,.@-]{1,128}`))},
			{"description", "policy description: at most 1000 characters", srcCreatePolicy, str(length(0, 1000))},
			{"path", "path: / or /segments/, at most 512 characters", srcCreatePolicy, str(length(1, 512), matches(`/|/[\x21-\x7E]+/`))},
			{"policy", "managed policy: JSON policy of at most 6,144 non-whitespace characters", srcIAMQuotas, iamPolicy(6144, true)},
		}, tagRules("", srcIAMTags)...),
	},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {none: "sends only a role name and a policy ARN"},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {
		auto: &autoName{prop: "name"},
		rules: append([]rule{
			{"name", "alarm name: 1-255 characters", srcPutMetricAlarm, str(length(1, 255))},
			{"alarmDescription", "alarm description: at most 1024 characters", srcPutMetricAlarm, str(length(0, 1024))},
			{"comparisonOperator", "comparison operator", srcPutMetricAlarm, oneOf("GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
				"LessThanThreshold", "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold")},
			{"evaluationPeriods", "evaluation periods >= 1", srcPutMetricAlarm, all(integer, between(1, 1e9))},
			{"datapointsToAlarm", "datapoints to alarm >= 1", srcPutMetricAlarm, all(integer, between(1, 1e9))},
			{"period", "period: 10, 20, 30 or a multiple of 60 seconds", srcPutMetricAlarm, func(v any) string {
				n, ok := number(v)
				if !ok || !(n == 10 || n == 20 || n == 30 || (n >= 60 && int(n)%60 == 0 && n == float64(int(n)))) {
					return fmt.Sprintf("%v is not 10, 20, 30 or a multiple of 60", v)
				}
				return ""
			}},
			{"statistic", "statistic", srcPutMetricAlarm, oneOf("SampleCount", "Average", "Sum", "Minimum", "Maximum")},
			{"treatMissingData", "treat missing data", srcPutMetricAlarm, oneOf("breaching", "notBreaching", "ignore", "missing")},
			{"namespace", "metric namespace: 1-255 characters, not starting with ':'", srcPutMetricAlarm, str(length(1, 255), matches(`[^:].*`))},
			{"metricName", "metric name: 1-255 characters", srcPutMetricAlarm, str(length(1, 255))},
			{"alarmActions", "at most 5 alarm actions", srcPutMetricAlarm, maxItems(5)},
			{"okActions", "at most 5 OK actions", srcPutMetricAlarm, maxItems(5)},
		}, tagRules("", srcTagging)...),
	},

	"docker:index/image:Image": {
		rules: []rule{
			{"imageName", "image reference: lowercase repository path and a tag of up to 128 of A-Za-z0-9_.- not starting with . or -", srcDockerTag,
				str(matches(`[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`))},
			{"build.platform", "image platform Fargate runs: linux/amd64 or linux/arm64", srcRuntimePlatform, oneOf("linux/amd64", "linux/arm64")},
		},
	},
}

// awsPlanRules are the rules across resources.
var awsPlanRules = []planRule{
	{name: ruleInlineTotal, source: srcIAMQuotas, check: inlinePolicyTotal},
	{name: rulePortNames, source: srcSCService, check: portNamesExist},
}

const (
	ruleInlineTotal = "the inline policies of a role together: at most 10,240 non-whitespace characters"
	rulePortNames   = "a Service Connect portName names a port mapping of the service's task definition"
)

// inlinePolicyTotal sums the inline policies per role.
func inlinePolicyTotal(p *plan.Result) []Violation {
	total := map[string]int{}
	last := map[string]*plan.Resource{}
	for _, r := range p.Find("aws:iam/rolePolicy:RolePolicy") {
		role, _ := r.Inputs["role"].(string)
		pol, _ := r.Inputs["policy"].(string)
		if role == "" || unknown(role) || unknown(pol) {
			continue
		}
		total[role] += nonWhitespaceLen(pol)
		last[role] = r
	}
	var out []Violation
	for _, role := range sortedKeysInt(total) {
		if n := total[role]; n > 10240 {
			r := last[role]
			out = append(out, Violation{Type: r.Type, Name: r.Name, Path: "policy", Value: fmt.Sprintf("role %s: %d characters", role, n),
				Rule: ruleInlineTotal, Source: srcIAMQuotas, Problem: fmt.Sprintf("inline policies total %d non-whitespace characters, at most 10240 allowed", n)})
		}
	}
	return out
}

func sortedKeysInt(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// portNamesExist checks each Service Connect portName against the port
// mapping names of the task definition the service runs (matched by family,
// from the task definition ARN).
func portNamesExist(p *plan.Result) []Violation {
	ports := map[string][]string{} // family -> port mapping names
	for _, td := range p.Find("aws:ecs/taskDefinition:TaskDefinition") {
		fam, _ := td.Inputs["family"].(string)
		walk(td.Inputs, strings.Split("containerDefinitions.@json.*.portMappings.*.name", "."), "", func(_ string, v any) {
			if s, ok := v.(string); ok {
				ports[fam] = append(ports[fam], s)
			}
		})
	}
	var out []Violation
	for _, svc := range p.Find("aws:ecs/service:Service") {
		arn, _ := svc.Inputs["taskDefinition"].(string)
		fam := arn[strings.LastIndex(arn, "/")+1:]
		if i := strings.LastIndex(fam, ":"); i >= 0 {
			fam = fam[:i]
		}
		names, known := ports[fam]
		if !known {
			continue
		}
		walk(svc.Inputs, strings.Split("serviceConnectConfiguration.services.*.portName", "."), "", func(at string, v any) {
			if s, ok := v.(string); ok && !slices.Contains(names, s) {
				out = append(out, Violation{Type: svc.Type, Name: svc.Name, Path: at, Value: shortValue(s), Rule: rulePortNames,
					Source: srcSCService, Problem: fmt.Sprintf("task definition %s has port mappings %v", fam, names)})
			}
		})
	}
	return out
}
