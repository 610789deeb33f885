// Package infra holds the Pulumi component resources of the imagelabel
// deployment, one file per concern: network (with its NAT modes in nat.go
// and interface endpoints in endpoints.go), security groups, cluster,
// images, the reusable Fargate service, the API, storage, IAM and the
// budget guard.
//
// Every component registers itself under a type token
// imagelabel:<module>:<Type>, parents its children, derives their names from
// its own name and registers its outputs. Components take typed arguments,
// never the stack config.
package infra

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NAT modes: how the private subnets reach AWS public endpoints.
const (
	// NATModeGateway is one managed NAT gateway (with its Elastic IP) in the
	// first public subnet serving every private subnet.
	NATModeGateway = "gateway"
	// NATModeInstance is one NAT instance (nat.go) in the first public
	// subnet: the cheapest egress, without managed high availability.
	NATModeInstance = "instance"
	// NATModeEndpoints is no NAT at all: interface VPC endpoints
	// (endpoints.go) for every AWS service the tasks call.
	NATModeEndpoints = "endpoints"
)

// NATModes are the NAT modes, the default first.
var NATModes = []string{NATModeGateway, NATModeInstance, NATModeEndpoints}

// NetworkArgs configures a Network.
type NetworkArgs struct {
	// AZs are the availability zone IDs (e.g. use1-az4) to use, one public
	// and one private subnet each. At least one. IDs, not names: a name
	// maps to a different zone in each account, and the VPC link's zones
	// are documented by ID.
	AZs []string
	// Region names the endpoint services (com.amazonaws.<region>.<service>).
	Region string
	// NATMode is NATModeGateway, NATModeInstance or NATModeEndpoints.
	NATMode string
	// AccountID limits the flow log role's trust to this account.
	AccountID string
	// LogRetentionDays is the retention of the flow log group.
	LogRetentionDays int
}

// Network is a VPC with public subnets (internet gateway), private subnets
// (egress by NAT gateway, NAT instance or interface endpoints) and an S3
// gateway endpoint on the private route tables.
type Network struct {
	pulumi.ResourceState

	VpcID            pulumi.StringOutput      `pulumi:"vpcId"`
	VpcCidr          pulumi.StringOutput      `pulumi:"vpcCidr"`
	PublicSubnetIDs  pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateSubnetIDs pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	// TaskSubnetIDs are the private subnets again, known only once their
	// egress works: route tables associated (with the NAT route), the NAT's
	// Elastic IP, the S3 gateway endpoint and the interface endpoints. A
	// service placed by them starts its tasks only then; a task started
	// earlier cannot pull its image, and three such failures trip the
	// deployment circuit breaker on the very first `pulumi up`.
	TaskSubnetIDs        pulumi.StringArrayOutput `pulumi:"taskSubnetIds"`
	PrivateRouteTableIDs pulumi.StringArrayOutput `pulumi:"privateRouteTableIds"`
	S3EndpointID         pulumi.StringOutput      `pulumi:"s3EndpointId"`
	// NatGatewayID is the NAT gateway (gateway mode) or NAT instance
	// (instance mode); empty in endpoints mode.
	NatGatewayID     pulumi.StringOutput `pulumi:"natGatewayId"`
	FlowLogGroupName pulumi.StringOutput `pulumi:"flowLogGroupName"`
}

// vpcCidr is the VPC range; subnets are /24s inside it: public 10.0.<i>.0/24,
// private 10.0.<128+i>.0/24, so each AZ has 251 usable addresses per subnet
// (AWS reserves 5 per subnet).
const vpcCidr = "10.0.0.0/16"

// NewNetwork creates the VPC and everything routing it: VPC and public
// subnets, the egress of the chosen NAT mode, private subnets and their
// route tables, the endpoints and the flow logs.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if len(args.AZs) == 0 {
		return nil, fmt.Errorf("network %s: no availability zones", name)
	}
	if !slices.Contains(NATModes, args.NATMode) {
		return nil, fmt.Errorf("network %s: nat mode %q not supported", name, args.NATMode)
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("imagelabel:network:Network", name, n, opts...); err != nil {
		return nil, fmt.Errorf("register network %s: %w", name, err)
	}
	parent := pulumi.Parent(n)

	vpc, igw, publicIDs, publicAssocs, err := newPublicNetwork(ctx, name, args.AZs, parent)
	if err != nil {
		return nil, err
	}
	eg, err := newEgress(ctx, name, args, vpc, igw, publicIDs[0], parent)
	if err != nil {
		return nil, err
	}
	privateIDs, privateRTs, assocs, err := newPrivateSubnets(ctx, name, args.AZs, vpc, eg.route, parent)
	if err != nil {
		return nil, err
	}

	s3ep, eps, err := newEndpoints(ctx, name, args, vpc, privateIDs, privateRTs, parent)
	if err != nil {
		return nil, err
	}
	ready := append(append(append([]any{}, eg.ready...), assocs...), publicAssocs...)
	ready = append(ready, s3ep.ID())
	ready = append(ready, eps...)
	if err := newDefaultSecurityGroup(ctx, name, vpc, parent); err != nil {
		return nil, err
	}

	flowLogs, err := newFlowLogs(ctx, name, vpc, args, parent)
	if err != nil {
		return nil, err
	}

	n.VpcID = vpc.ID().ToStringOutput()
	n.VpcCidr = vpc.CidrBlock
	n.PublicSubnetIDs = publicIDs.ToStringArrayOutput()
	n.PrivateSubnetIDs = privateIDs.ToStringArrayOutput()
	n.TaskSubnetIDs = pulumi.All(append(ready, privateIDs.ToStringArrayOutput())...).ApplyT(func(v []any) []string {
		return v[len(v)-1].([]string)
	}).(pulumi.StringArrayOutput)
	n.PrivateRouteTableIDs = privateRTs.ToStringArrayOutput()
	n.S3EndpointID = s3ep.ID().ToStringOutput()
	n.NatGatewayID = eg.id
	n.FlowLogGroupName = flowLogs
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"flowLogGroupName":     n.FlowLogGroupName,
		"vpcId":                n.VpcID,
		"vpcCidr":              n.VpcCidr,
		"publicSubnetIds":      n.PublicSubnetIDs,
		"privateSubnetIds":     n.PrivateSubnetIDs,
		"taskSubnetIds":        n.TaskSubnetIDs,
		"privateRouteTableIds": n.PrivateRouteTableIDs,
		"s3EndpointId":         n.S3EndpointID,
		"natGatewayId":         n.NatGatewayID,
	}); err != nil {
		return nil, fmt.Errorf("outputs of network %s: %w", name, err)
	}
	return n, nil
}

// newPublicNetwork creates the VPC, its internet gateway and one public
// subnet per AZ on a route table through the internet gateway.
func newPublicNetwork(ctx *pulumi.Context, name string, azs []string, parent pulumi.ResourceOption) (*ec2.Vpc, *ec2.InternetGateway, pulumi.StringArray, []any, error) {
	// DNS support and hostnames are required for the Cloud Map private DNS
	// namespace, for resolving AWS endpoints from the tasks and for the
	// private DNS names of interface endpoints:
	// https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html
	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(vpcCidr),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("vpc %s: %w", name, err)
	}
	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("internet gateway %s: %w", name, err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{
			CidrBlock: pulumi.String("0.0.0.0/0"),
			GatewayId: igw.ID(),
		}},
		Tags: pulumi.StringMap{"Name": pulumi.String(name + "-public")},
	}, parent)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("public route table %s: %w", name, err)
	}
	var publicIDs pulumi.StringArray
	var assocs []any // the NAT's way out is its public subnet's route
	for i, az := range azs {
		pub, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-public-%d", name, i), &ec2.SubnetArgs{
			VpcId:              vpc.ID(),
			AvailabilityZoneId: pulumi.String(az),
			CidrBlock:          pulumi.Sprintf("10.0.%d.0/24", i),
			// Nothing in this design runs in the public subnets except the
			// NAT gateway or instance, which has its own Elastic IP: no auto
			// public IPs (each would cost $0.005/h).
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                pulumi.StringMap{"Name": pulumi.Sprintf("%s-public-%s", name, az)},
		}, parent)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("public subnet %s in %s: %w", name, az, err)
		}
		assoc, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-public-%d", name, i), &ec2.RouteTableAssociationArgs{
			SubnetId:     pub.ID(),
			RouteTableId: publicRT.ID(),
		}, parent)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("public route association %s in %s: %w", name, az, err)
		}
		assocs = append(assocs, assoc.ID())
		publicIDs = append(publicIDs, pub.ID())
	}
	return vpc, igw, publicIDs, assocs, nil
}

// newPrivateSubnets creates one private subnet per AZ, each with its own
// route table (so a per-AZ NAT would only change the route target) holding
// the egress routes (none in endpoints mode, leaving only the VPC's local
// route and the S3 gateway endpoint's prefix list).
func newPrivateSubnets(ctx *pulumi.Context, name string, azs []string, vpc *ec2.Vpc, routes ec2.RouteTableRouteArray, parent pulumi.ResourceOption) (pulumi.StringArray, pulumi.StringArray, []any, error) {
	var privateIDs, privateRTs pulumi.StringArray
	var assocs []any
	for i, az := range azs {
		priv, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-private-%d", name, i), &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			AvailabilityZoneId:  pulumi.String(az),
			CidrBlock:           pulumi.Sprintf("10.0.%d.0/24", 128+i),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                pulumi.StringMap{"Name": pulumi.Sprintf("%s-private-%s", name, az)},
		}, parent)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("private subnet %s in %s: %w", name, az, err)
		}
		rt, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-%d", name, i), &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: routes,
			Tags:   pulumi.StringMap{"Name": pulumi.Sprintf("%s-private-%s", name, az)},
		}, parent)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("private route table %s in %s: %w", name, az, err)
		}
		assoc, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-%d", name, i), &ec2.RouteTableAssociationArgs{
			SubnetId:     priv.ID(),
			RouteTableId: rt.ID(),
		}, parent)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("private route association %s in %s: %w", name, az, err)
		}
		assocs = append(assocs, assoc.ID())
		privateIDs = append(privateIDs, priv.ID())
		privateRTs = append(privateRTs, rt.ID())
	}
	return privateIDs, privateRTs, assocs, nil
}

// newEndpoints creates the VPC endpoints of the private subnets: the S3
// gateway endpoint on their route tables and, in endpoints mode, the
// interface endpoints (whose IDs it returns; none in the other modes).
func newEndpoints(ctx *pulumi.Context, name string, args *NetworkArgs, vpc *ec2.Vpc, privateIDs, privateRTs pulumi.StringArray, parent pulumi.ResourceOption) (*ec2.VpcEndpoint, []any, error) {
	// S3 traffic from the tasks (upload's PutObject, and the ECR image
	// layers, which ECR serves from S3) never crosses the NAT: a gateway
	// endpoint is free, NAT data processing is not. In endpoints mode it is
	// the only way to S3 (interface endpoints for S3 cannot serve ECR):
	// https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html
	s3ep, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", args.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   privateRTs,
		Tags:            pulumi.StringMap{"Name": pulumi.String(name + "-s3")},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("s3 endpoint %s: %w", name, err)
	}
	if args.NATMode != NATModeEndpoints {
		return s3ep, nil, nil
	}
	eps, err := newInterfaceEndpoints(ctx, name, args.Region, vpc, privateIDs, parent)
	if err != nil {
		return nil, nil, err
	}
	return s3ep, eps, nil
}

// newDefaultSecurityGroup adopts the VPC's default security group and
// leaves it without rules.
func newDefaultSecurityGroup(ctx *pulumi.Context, name string, vpc *ec2.Vpc, parent pulumi.ResourceOption) error {
	// The VPC's default security group is unused; strip its allow rules so
	// nothing attached to it by mistake gets traffic (the provider removes
	// every rule of the group it adopts when none are declared):
	// https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-2
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  pulumi.StringMap{"Name": pulumi.String(name + "-default-unused")},
	}, parent); err != nil {
		return fmt.Errorf("default security group %s: %w", name, err)
	}
	return nil
}

// newFlowLogs records rejected traffic of the VPC to CloudWatch Logs: the
// security groups deny by default, so REJECT records show what they stop
// (and what a misconfigured rule would break) without paying to log every
// accepted flow. Role and policy as documented in
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
// with the confused-deputy conditions on the trust policy.
func newFlowLogs(ctx *pulumi.Context, name string, vpc *ec2.Vpc, args *NetworkArgs, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	fail := func(what string, err error) (pulumi.StringOutput, error) {
		return pulumi.StringOutput{}, fmt.Errorf("flow logs %s of %s: %w", what, name, err)
	}
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-flow", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/imagelabel/%s/vpc-flow-rejects", ctx.Stack()),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent)
	if err != nil {
		return fail("log group", err)
	}
	trust, err := policyJSON(Statement{
		Effect:    "Allow",
		Principal: map[string]string{"Service": "vpc-flow-logs.amazonaws.com"},
		Action:    "sts:AssumeRole",
		Condition: map[string]any{
			"StringEquals": map[string]string{"aws:SourceAccount": args.AccountID},
			"ArnLike":      map[string]string{"aws:SourceArn": fmt.Sprintf("arn:aws:ec2:%s:%s:vpc-flow-log/*", args.Region, args.AccountID)},
		},
	})
	if err != nil {
		return fail("trust policy", err)
	}
	role, err := iam.NewRole(ctx, name+"-flow", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.String("VPC flow logs of " + name + " to CloudWatch Logs"),
	}, parent)
	if err != nil {
		return fail("role", err)
	}
	policy := logs.Arn.ApplyT(func(arn string) (string, error) {
		return policyJSON(
			Statement{Sid: "WriteFlowLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, Resource: arn + ":*"},
			Statement{Sid: "FindLogGroup", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", args.Region, args.AccountID)},
		)
	}).(pulumi.StringOutput)
	rp, err := iam.NewRolePolicy(ctx, name+"-flow", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent)
	if err != nil {
		return fail("role policy", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:              vpc.ID(),
		TrafficType:        pulumi.String("REJECT"),
		LogDestinationType: pulumi.String("cloud-watch-logs"),
		LogDestination:     logs.Arn,
		IamRoleArn:         role.Arn,
		// 60 s instead of the default 600 s: rejects show up while debugging.
		MaxAggregationInterval: pulumi.Int(60),
	}, parent, pulumi.DependsOn([]pulumi.Resource{rp})); err != nil {
		return fail("flow log", err)
	}
	return logs.Name, nil
}
