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
	c.ClusterArn = cl.Arn
	c.ClusterName = cl.Name
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
