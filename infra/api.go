package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/servicediscovery"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Routes are exactly upload's public API. {proxy+} is greedy and matches
// slashes, so GET /labels/uploads/<hash>.jpg reaches GET /labels/{key...}:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
var Routes = []string{
	"GET /healthz",
	"GET /getInfo",
	"GET /",
	"GET /assets/{proxy+}",
	"POST /upload",
	"GET /labels/{proxy+}",
}

// SignedRoutes are the routes that cost money or read data: with IAM
// authorization (APIArgs.IAMAuth) only SigV4-signed requests of callers
// allowed execute-api:Invoke on them get through. Health, /getInfo and the
// page's files stay open, so a browser can load the page and a load
// balancer or person can check the API without credentials:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html
var SignedRoutes = []string{"POST /upload", "GET /labels/{proxy+}"}

// IntegrationTimeoutMillis is the integration timeout: HTTP APIs allow
// 50-30,000 ms (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
// 29 s leaves API Gateway time to answer 504 itself.
const IntegrationTimeoutMillis = 29000

// accessLogFormat is the JSON access log line ($context variables:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
var accessLogFormat = func() string {
	b, err := json.Marshal(map[string]string{
		"requestId":          "$context.requestId",
		"ip":                 "$context.identity.sourceIp",
		"requestTime":        "$context.requestTime",
		"httpMethod":         "$context.httpMethod",
		"routeKey":           "$context.routeKey",
		"path":               "$context.path",
		"status":             "$context.status",
		"protocol":           "$context.protocol",
		"responseLength":     "$context.responseLength",
		"responseLatency":    "$context.responseLatency",
		"integrationStatus":  "$context.integrationStatus",
		"integrationLatency": "$context.integrationLatency",
		"integrationError":   "$context.integrationErrorMessage",
		"errorMessage":       "$context.error.message",
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// APIArgs configures an API.
type APIArgs struct {
	VpcID                  pulumi.StringInput
	SubnetIDs              pulumi.StringArrayInput // private subnets for the VPC link
	VpcLinkSecurityGroupID pulumi.StringInput
	// DiscoveryNamespace is the private DNS namespace holding the SRV
	// records of upload (its own zone, apart from Service Connect's).
	DiscoveryNamespace string
	// DiscoveryService is the Cloud Map service name upload registers in.
	DiscoveryService string
	ThrottleRate     float64
	ThrottleBurst    int
	LogRetentionDays int

	// IAMAuth requires AWS_IAM authorization on SignedRoutes.
	IAMAuth bool
	// DisableExecuteAPIEndpoint turns off the default execute-api URL, so
	// clients reach the API only through its custom domain.
	DisableExecuteAPIEndpoint bool
}

// API is the public HTTP API: $default stage, VPC link into the private
// subnets, one HTTP_PROXY integration to the tasks registered in a Cloud
// Map SRV service, and the explicit routes.
type API struct {
	pulumi.ResourceState

	// DiscoveryServiceArn is the Cloud Map service upload registers in
	// (ECS serviceRegistries) and the integration targets.
	DiscoveryServiceArn pulumi.StringOutput `pulumi:"discoveryServiceArn"`
	URL                 pulumi.StringOutput `pulumi:"url"`
	LogGroupName        pulumi.StringOutput `pulumi:"logGroupName"`
	APIID               pulumi.StringOutput `pulumi:"apiId"`
	// ExecutionArn is arn:aws:execute-api:<region>:<account>:<apiId>, the
	// prefix of the resources of execute-api:Invoke.
	ExecutionArn pulumi.StringOutput `pulumi:"executionArn"`
	// Stage is the $default stage, which a custom domain's API mapping targets.
	Stage *apigatewayv2.Stage
}

// NewAPI creates the API and its discovery resources. The integration does
// not depend on the ECS service: it targets the Cloud Map service, which
// ECS fills with task addresses once upload runs.
func NewAPI(ctx *pulumi.Context, name string, args *APIArgs, opts ...pulumi.ResourceOption) (*API, error) {
	if args.ThrottleRate <= 0 || args.ThrottleBurst <= 0 {
		return nil, fmt.Errorf("api %s: throttling %g/%d", name, args.ThrottleRate, args.ThrottleBurst)
	}
	a := &API{}
	if err := ctx.RegisterComponentResource("imagelabel:api:Api", name, a, opts...); err != nil {
		return nil, fmt.Errorf("register api %s: %w", name, err)
	}
	parent := pulumi.Parent(a)

	disc, link, err := newPrivateBackend(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	apiArgs := &apigatewayv2.ApiArgs{
		ProtocolType: pulumi.String("HTTP"),
		Description:  pulumi.String("imagelabel public API"),
	}
	if args.DisableExecuteAPIEndpoint {
		apiArgs.DisableExecuteApiEndpoint = pulumi.Bool(true)
	}
	api, err := apigatewayv2.NewApi(ctx, name, apiArgs, parent)
	if err != nil {
		return nil, fmt.Errorf("http api %s: %w", name, err)
	}
	if err := newRoutes(ctx, name, api, link, disc, args.IAMAuth, parent); err != nil {
		return nil, err
	}
	stage, logs, err := newStage(ctx, name, args, api, parent)
	if err != nil {
		return nil, err
	}

	a.DiscoveryServiceArn = disc.Arn
	a.URL = stage.InvokeUrl
	a.LogGroupName = logs.Name
	a.APIID = api.ID().ToStringOutput()
	a.ExecutionArn = api.ExecutionArn
	a.Stage = stage
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"discoveryServiceArn": a.DiscoveryServiceArn, "url": a.URL,
		"logGroupName": a.LogGroupName, "apiId": a.APIID,
	}); err != nil {
		return nil, fmt.Errorf("outputs of api %s: %w", name, err)
	}
	return a, nil
}

// newPrivateBackend creates the way from API Gateway to the upload tasks:
// the private DNS namespace and the Cloud Map SRV service the tasks
// register in, and the VPC link into the private subnets.
func newPrivateBackend(ctx *pulumi.Context, name string, args *APIArgs, parent pulumi.ResourceOption) (*servicediscovery.Service, *apigatewayv2.VpcLink, error) {
	ns, err := servicediscovery.NewPrivateDnsNamespace(ctx, name, &servicediscovery.PrivateDnsNamespaceArgs{
		Name:        pulumi.String(args.DiscoveryNamespace),
		Vpc:         args.VpcID,
		Description: pulumi.String("SRV records of upload tasks for the API's VPC link"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("private dns namespace %s: %w", args.DiscoveryNamespace, err)
	}
	// API Gateway needs the port of each instance; with ECS-registered
	// instances that means SRV records:
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html
	// ForceDestroy lets `pulumi destroy` delete it even if ECS has not yet
	// deregistered every instance.
	disc, err := servicediscovery.NewService(ctx, name, &servicediscovery.ServiceArgs{
		Name: pulumi.String(args.DiscoveryService),
		DnsConfig: &servicediscovery.ServiceDnsConfigArgs{
			NamespaceId:   ns.ID(),
			RoutingPolicy: pulumi.String("MULTIVALUE"),
			DnsRecords: servicediscovery.ServiceDnsConfigDnsRecordArray{servicediscovery.ServiceDnsConfigDnsRecordArgs{
				Type: pulumi.String("SRV"),
				Ttl:  pulumi.Int(10),
			}},
		},
		// ECS reports task health to Cloud Map (custom health check), so an
		// unhealthy task is removed from discovery:
		// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html
		HealthCheckCustomConfig: &servicediscovery.ServiceHealthCheckCustomConfigArgs{FailureThreshold: pulumi.Int(1)},
		ForceDestroy:            pulumi.Bool(true),
	}, parent,
		// Its name is fixed and unique in the namespace: a replacement (a
		// change of routing policy, records or health check config) made
		// beside the old service would fail with ServiceAlreadyExists.
		pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return nil, nil, fmt.Errorf("discovery service %s: %w", name, err)
	}

	link, err := apigatewayv2.NewVpcLink(ctx, name, &apigatewayv2.VpcLinkArgs{
		Name:             pulumi.Sprintf("imagelabel-%s-%s", ctx.Stack(), name),
		SubnetIds:        args.SubnetIDs,
		SecurityGroupIds: pulumi.StringArray{args.VpcLinkSecurityGroupID},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("vpc link %s: %w", name, err)
	}
	return disc, link, nil
}

// newRoutes creates the API's one HTTP_PROXY integration, through the VPC
// link to the tasks in the discovery service, and a route to it for each
// key of Routes.
func newRoutes(ctx *pulumi.Context, name string, api *apigatewayv2.Api, link *apigatewayv2.VpcLink, disc *servicediscovery.Service, iamAuth bool, parent pulumi.ResourceOption) error {
	integ, err := apigatewayv2.NewIntegration(ctx, name, &apigatewayv2.IntegrationArgs{
		ApiId:                api.ID(),
		IntegrationType:      pulumi.String("HTTP_PROXY"),
		IntegrationMethod:    pulumi.String("ANY"),
		ConnectionType:       pulumi.String("VPC_LINK"),
		ConnectionId:         link.ID(),
		IntegrationUri:       disc.Arn,
		PayloadFormatVersion: pulumi.String("1.0"), // the only version HTTP_PROXY supports
		TimeoutMilliseconds:  pulumi.Int(IntegrationTimeoutMillis),
		// The request id in API Gateway's access log is the one upload logs
		// and forwards to rekog:
		// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html
		RequestParameters: pulumi.StringMap{
			"overwrite:header.X-Request-Id": pulumi.String("$context.requestId"),
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("integration %s: %w", name, err)
	}
	for _, key := range Routes {
		routeArgs := &apigatewayv2.RouteArgs{
			ApiId:    api.ID(),
			RouteKey: pulumi.String(key),
			Target:   pulumi.Sprintf("integrations/%s", integ.ID()),
		}
		// Unset (not NONE) on open routes: the provider's default is NONE,
		// and the default stack's inputs stay as they were.
		if iamAuth && slices.Contains(SignedRoutes, key) {
			routeArgs.AuthorizationType = pulumi.String("AWS_IAM")
		}
		if _, err := apigatewayv2.NewRoute(ctx, name+"-"+routeSlug(key), routeArgs, parent); err != nil {
			return fmt.Errorf("route %q of %s: %w", key, name, err)
		}
	}
	return nil
}

// newStage creates the access log group and the API's $default stage,
// auto-deployed, throttled and logging to that group.
func newStage(ctx *pulumi.Context, name string, args *APIArgs, api *apigatewayv2.Api, parent pulumi.ResourceOption) (*apigatewayv2.Stage, *cloudwatch.LogGroup, error) {
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-access", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/imagelabel/%s/api-access", ctx.Stack()),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent, pulumi.DeleteBeforeReplace(true)) // a fixed name cannot exist twice
	if err != nil {
		return nil, nil, fmt.Errorf("access log group %s: %w", name, err)
	}
	// $default: the invoke URL has no stage prefix, so the backend sees the
	// client's path unchanged (a named stage would prefix it).
	stage, err := apigatewayv2.NewStage(ctx, name, &apigatewayv2.StageArgs{
		ApiId:      api.ID(),
		Name:       pulumi.String("$default"),
		AutoDeploy: pulumi.Bool(true),
		DefaultRouteSettings: &apigatewayv2.StageDefaultRouteSettingsArgs{
			ThrottlingRateLimit:  pulumi.Float64(args.ThrottleRate),
			ThrottlingBurstLimit: pulumi.Int(args.ThrottleBurst),
		},
		AccessLogSettings: &apigatewayv2.StageAccessLogSettingsArgs{
			DestinationArn: logs.Arn,
			Format:         pulumi.String(accessLogFormat),
		},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("stage %s: %w", name, err)
	}
	return stage, logs, nil
}

// routeSlug turns a route key into a resource name suffix:
// "GET /labels/{proxy+}" -> "get-labels-proxy", "GET /" -> "get-root".
func routeSlug(key string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(key) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if !strings.Contains(s, "-") {
		s += "-root"
	}
	return s
}

// InvokeResources returns the execute-api:Invoke resources of the
// SignedRoutes of the API whose execution ARN is executionArn:
// <executionArn>/<stage>/<METHOD>/<path>, any stage (the API has only
// $default), a greedy {proxy+} as *:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
func InvokeResources(executionArn string) []string {
	out := make([]string, len(SignedRoutes))
	for i, key := range SignedRoutes {
		method, path, _ := strings.Cut(key, " ")
		path = strings.ReplaceAll(path, "{proxy+}", "*")
		out[i] = executionArn + "/*/" + method + path
	}
	return out
}
