package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// InterfaceEndpointServices are the services (com.amazonaws.<region>.<name>)
// the tasks reach through interface endpoints in endpoints mode; S3 has its
// gateway endpoint in every mode. Each is billed per hour per AZ.
//
//   - ecr.api, ecr.dkr: the image pull of a Fargate task (platform 1.4 pulls
//     through the task's own network interface), plus S3 for the layers:
//     https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
//   - logs: the awslogs driver of the containers and of the Service Connect
//     proxy: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch-logs-and-interface-VPC.html
//   - rekognition: rekog's DetectLabels:
//     https://docs.aws.amazon.com/rekognition/latest/dg/vpc.html
//   - ecs, ecs-agent, ecs-telemetry: the ECS endpoints. The ECS guide says
//     Fargate tasks do not need them for the task itself, but the Service
//     Connect agent in each task fetches its configuration from ECS, and the
//     guide asks for all three together ("if you do not configure all of
//     the endpoints, your traffic will go over the public endpoints"):
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
//     Without an account this cannot be proven either way, so the mode
//     errs on the side of a working Service Connect (docs/cost.md).
//
// Task role credentials come from the ECS credential endpoint inside the
// task (169.254.170.2), so no STS endpoint is needed.
var InterfaceEndpointServices = []string{"ecr.api", "ecr.dkr", "logs", "rekognition", "ecs", "ecs-agent", "ecs-telemetry"}

// newInterfaceEndpoints creates one interface endpoint per service in
// every private subnet, with private DNS so the SDKs' default regional
// hostnames resolve to them, behind a security group that admits HTTPS
// from the VPC only.
func newInterfaceEndpoints(ctx *pulumi.Context, name, region string, v *ec2.Vpc, subnets pulumi.StringArray, parent pulumi.ResourceOption) ([]any, error) {
	// "The security group attached to the VPC endpoint must allow incoming
	// connections on port 443 from the private subnet of the VPC" (ECS
	// guide above). The VPC CIDR, not the task groups: the endpoints then
	// do not depend on the service security groups' lifecycle. No egress
	// rule: endpoints only answer.
	sg, err := newHTTPSFromVPCGroup(ctx, name+"-endpoints", "Interface VPC endpoints: HTTPS from the VPC only", "HTTPS to AWS APIs from the VPC", v, parent)
	if err != nil {
		return nil, err
	}
	var ids []any
	for _, svc := range InterfaceEndpointServices {
		ep, err := ec2.NewVpcEndpoint(ctx, name+"-"+svc, &ec2.VpcEndpointArgs{
			VpcId:             v.ID(),
			ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", region, svc),
			VpcEndpointType:   pulumi.String("Interface"),
			SubnetIds:         subnets,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			PrivateDnsEnabled: pulumi.Bool(true),
			Tags:              pulumi.StringMap{"Name": pulumi.String(name + "-" + svc)},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("interface endpoint %s-%s: %w", name, svc, err)
		}
		ids = append(ids, ep.ID())
	}
	return ids, nil
}

// newHTTPSFromVPCGroup creates security group name admitting TCP 443 from
// the VPC's CIDR only (rule name-from-vpc), with no egress rule: the NAT
// instance adds its own, endpoints need none.
func newHTTPSFromVPCGroup(ctx *pulumi.Context, name, desc, ruleDesc string, v *ec2.Vpc, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       v.ID(),
		Description: pulumi.String(desc),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("security group %s: %w", name, err)
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-from-vpc", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: sg.ID(),
		Description:     pulumi.String(ruleDesc),
		IpProtocol:      pulumi.String("tcp"),
		FromPort:        pulumi.Int(443),
		ToPort:          pulumi.Int(443),
		CidrIpv4:        v.CidrBlock,
	}, parent); err != nil {
		return nil, fmt.Errorf("ingress rule %s-from-vpc: %w", name, err)
	}
	return sg, nil
}
