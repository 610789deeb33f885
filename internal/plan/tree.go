package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// treeKeys are the inputs the readable plan shows per resource type.
var treeKeys = map[string][]string{
	"aws:ec2/vpc:Vpc":                                                      {"cidrBlock", "enableDnsHostnames", "enableDnsSupport"},
	"aws:ec2/subnet:Subnet":                                                {"availabilityZoneId", "cidrBlock", "mapPublicIpOnLaunch"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                                      {"serviceName", "vpcEndpointType"},
	"aws:ec2/routeTable:RouteTable":                                        {"routes"},
	"aws:ecs/cluster:Cluster":                                              {"settings"},
	"aws:ecs/taskDefinition:TaskDefinition":                                {"family", "cpu", "memory", "runtimePlatform"},
	"aws:ecs/service:Service":                                              {"desiredCount", "networkConfiguration", "deploymentCircuitBreaker"},
	"aws:ecr/repository:Repository":                                        {"imageScanningConfiguration", "forceDelete"},
	"docker:index/image:Image":                                             {"imageName", "build"},
	"aws:cloudwatch/logGroup:LogGroup":                                     {"name", "retentionInDays"},
	"aws:servicediscovery/httpNamespace:HttpNamespace":                     {"name"},
	"aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":         {"name"},
	"aws:servicediscovery/service:Service":                                 {"name", "dnsConfig"},
	"aws:apigatewayv2/integration:Integration":                             {"integrationType", "connectionType", "timeoutMilliseconds"},
	"aws:apigatewayv2/route:Route":                                         {"routeKey"},
	"aws:apigatewayv2/stage:Stage":                                         {"name", "defaultRouteSettings"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":            {"fromPort", "description"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":              {"fromPort", "cidrIpv4", "description"},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {"rules"},
	"aws:appautoscaling/target:Target":                                     {"minCapacity", "maxCapacity"},
	"aws:appautoscaling/policy:Policy":                                     {"policyType"},
}

// MarkPlaceholders finds the values the mocks made up: the string outputs
// of each resource that are not its inputs (ids, ARNs, URLs, generated
// names), except the region, which is real. Stack outputs made from them
// are placeholders too.
func MarkPlaceholders(res *Result, region string) {
	if region == "" {
		region = MockRegion
	}
	res.placeholders = map[string]bool{}
	for _, r := range res.Resources {
		inputs := map[string]bool{}
		for _, v := range r.Inputs {
			if s, ok := v.(string); ok {
				inputs[s] = true
			}
		}
		r.Placeholders = nil
		for _, k := range slices.Sorted(maps.Keys(r.Outputs)) {
			s, ok := r.Outputs[k].(string)
			if _, isInput := r.Inputs[k]; isInput || !ok || s == "" || s == region || inputs[s] {
				continue
			}
			r.Placeholders = append(r.Placeholders, k)
			res.placeholders[s] = true
		}
	}
	res.PlaceholderOutputs = nil
	for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
		if s, ok := res.Outputs[k].(string); ok && res.isPlaceholder(s) {
			res.PlaceholderOutputs = append(res.PlaceholderOutputs, k)
		}
	}
}

// minEmbedded is the shortest made-up value looked for inside other
// strings: shorter ones (a 6-digit VPC link id) would match by chance.
const minEmbedded = 8

// isPlaceholder reports whether s is, or contains, a made-up value (an
// image name holds the made-up repository URL, a URL the made-up API id).
func (p *Result) isPlaceholder(s string) bool {
	if p.placeholders[s] {
		return true
	}
	for v := range p.placeholders {
		if len(v) >= minEmbedded && strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// marked returns v with every made-up string s shown as "<s>".
func (p *Result) marked(v any) any {
	switch v := v.(type) {
	case string:
		if p.isPlaceholder(v) {
			return "<" + v + ">"
		}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = p.marked(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = p.marked(e)
		}
		return out
	}
	return v
}

// compactJSON returns v as one line of JSON, with "<" and ">" as they are
// (json.Marshal escapes them for HTML).
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// WriteTree writes the plan's header (what the values are, the --set
// overrides in effect), then the resources as an indented tree with key
// settings, then the stack outputs. Made-up values are shown <like this>.
func WriteTree(w io.Writer, stack string, overrides []string, res *Result) error {
	children := map[string][]*Resource{}
	for _, r := range res.Resources {
		children[r.Parent] = append(children[r.Parent], r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s (project %s): %d resources, planned offline under mocks\n", stack, Project, len(res.Resources))
	b.WriteString("values in <angle brackets> are placeholders made up by the mocks (ids, ARNs, URLs);\n" +
		"AWS assigns the real ones at `pulumi up`\n")
	if len(overrides) > 0 {
		fmt.Fprintf(&b, "config: Pulumi.%s.yaml with --set %s\n", stack, strings.Join(overrides, " "))
	} else {
		fmt.Fprintf(&b, "config: Pulumi.%s.yaml (no --set overrides)\n", stack)
	}
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		for _, r := range children[parent] {
			fmt.Fprintf(&b, "%s%s  %s", indent, r.Name, r.Type)
			for _, k := range treeKeys[r.Type] {
				if v, ok := r.Inputs[k]; ok {
					fmt.Fprintf(&b, "  %s=%s", k, compactJSON(res.marked(v)))
				}
			}
			b.WriteString("\n")
			if r.URN != "" {
				walk(r.URN, indent+"  ")
			}
		}
	}
	walk("", "  ")
	b.WriteString("outputs:\n")
	for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
		fmt.Fprintf(&b, "  %s = %v\n", k, res.marked(res.Outputs[k]))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}
