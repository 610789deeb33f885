package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/servicediscovery"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ClusterArgs configures a Cluster.
type ClusterArgs struct {
	// Namespace is the Service Connect namespace name (per stack, e.g.
	// dev.imagelabel.internal: Cloud Map names are unique per account and
	// region).
	Namespace string
	// ContainerInsights turns on ECS Container Insights.
	ContainerInsights bool
}

// Fargate capacity providers. They exist in every account; a cluster only
// has to be associated with them:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
const (
	CapacityFargate     = "FARGATE"
	CapacityFargateSpot = "FARGATE_SPOT"
)

// CapacityProviderShare is one entry of a service's capacity provider
// strategy: Base tasks first on this provider, then the rest by Weight.
type CapacityProviderShare struct {
	Provider string
	Base     int
	Weight   int
}

// OnDemandStrategy puts every task on regular Fargate. The services use a
// strategy even without Spot (rather than the FARGATE launch type), so that
// turning spot on or off is an in-place strategy change, rolled out as a
// new deployment: switching between a launch type and a strategy makes the
// provider replace the ECS service (terraform-provider-aws issue 22823).
func OnDemandStrategy() []CapacityProviderShare {
	return []CapacityProviderShare{{Provider: CapacityFargate, Base: 0, Weight: 1}}
}

// SpotStrategy keeps onDemandBase tasks on regular Fargate and puts every
// further task on Fargate Spot. ECS allows a base on one provider only and
// needs a weight above 0 on at least one:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
func SpotStrategy(onDemandBase int) []CapacityProviderShare {
	return []CapacityProviderShare{
		{Provider: CapacityFargate, Base: onDemandBase, Weight: 0},
		{Provider: CapacityFargateSpot, Base: 0, Weight: 1},
	}
}

// Cluster is the ECS cluster plus the Cloud Map HTTP namespace used by
// Service Connect. The namespace is declared here, not left to ECS: a
// namespace ECS creates implicitly is never deleted by ECS, so `pulumi
// destroy` would leave it behind:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
type Cluster struct {
	pulumi.ResourceState

	ClusterArn    pulumi.StringOutput `pulumi:"clusterArn"`
	ClusterName   pulumi.StringOutput `pulumi:"clusterName"`
	NamespaceArn  pulumi.StringOutput `pulumi:"namespaceArn"`
	NamespaceName pulumi.StringOutput `pulumi:"namespaceName"`
}

// NewCluster creates the namespace and the cluster using it by default.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	c := &Cluster{}
	if err := ctx.RegisterComponentResource("imagelabel:cluster:Cluster", name, c, opts...); err != nil {
		return nil, fmt.Errorf("register cluster %s: %w", name, err)
	}
	parent := pulumi.Parent(c)
	// On destroy, ECS deletes the Cloud Map service it made for rekog's
	// Service Connect endpoint asynchronously, after the ECS service is
	// gone; until then DeleteNamespace answers ResourceInUse. The provider
	// retries that for a fixed 2 minutes (resourceHTTPNamespaceDelete in
	// terraform-provider-aws internal/service/servicediscovery/
	// http_namespace.go: a constant, and the resource declares no
	// timeouts), so pulumi.Timeouts cannot lengthen it and none is set. If
	// ECS is slower, `pulumi destroy` ends with that one error and a second
	// `pulumi destroy` deletes the namespace (docs/deploy.md,
	// troubleshooting).
	ns, err := servicediscovery.NewHttpNamespace(ctx, name, &servicediscovery.HttpNamespaceArgs{
		Name:        pulumi.String(args.Namespace),
		Description: pulumi.String("Service Connect namespace of " + name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("http namespace %s: %w", args.Namespace, err)
	}
	insights := "disabled"
	if args.ContainerInsights {
		insights = "enabled"
	}
	cl, err := ecs.NewCluster(ctx, name, &ecs.ClusterArgs{
		Settings: ecs.ClusterSettingArray{ecs.ClusterSettingArgs{
			Name:  pulumi.String("containerInsights"),
			Value: pulumi.String(insights),
		}},
		ServiceConnectDefaults: &ecs.ClusterServiceConnectDefaultsArgs{Namespace: ns.Arn},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("ecs cluster %s: %w", name, err)
	}
	// Both Fargate providers are associated whatever the services use, so
	// turning spot on or off never changes the cluster. The cluster's ARN
	// and name are handed out through this association, so a service that
	// names a provider in its strategy is created only once the cluster has
	// it (ECS refuses a strategy naming a provider the cluster lacks).
	cps, err := ecs.NewClusterCapacityProviders(ctx, name, &ecs.ClusterCapacityProvidersArgs{
		ClusterName:       cl.Name,
		CapacityProviders: pulumi.StringArray{pulumi.String(CapacityFargate), pulumi.String(CapacityFargateSpot)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("capacity providers of cluster %s: %w", name, err)
	}
	c.ClusterArn = pulumi.All(cl.Arn, cps.ID()).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)
	c.ClusterName = cps.ClusterName
	c.NamespaceArn = ns.Arn
	c.NamespaceName = ns.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterArn": c.ClusterArn, "clusterName": c.ClusterName,
		"namespaceArn": c.NamespaceArn, "namespaceName": c.NamespaceName,
	}); err != nil {
		return nil, fmt.Errorf("outputs of cluster %s: %w", name, err)
	}
	return c, nil
}
