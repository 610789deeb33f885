package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// egress is how the private subnets leave the VPC: the routes of their route
// tables and the id of the NAT device ("" without one).
type egress struct {
	route ec2.RouteTableRouteArray
	id    pulumi.StringOutput
	// ready are the IDs of what must exist before traffic leaves: the NAT
	// instance's Elastic IP (the route alone waits for the instance).
	ready []any
}

// newEgress creates the NAT of the mode in the first public subnet and
// returns the private subnets' default route to it. In endpoints mode there
// is none: the route list is empty (not absent), so a stack switched from a
// NAT mode loses its old default route instead of keeping a blackhole.
func newEgress(ctx *pulumi.Context, name string, args *NetworkArgs, v *ec2.Vpc, igw *ec2.InternetGateway, subnet pulumi.StringInput, parent pulumi.ResourceOption) (egress, error) {
	switch args.NATMode {
	case NATModeGateway:
		nat, err := newNATGateway(ctx, name, igw, subnet, parent)
		if err != nil {
			return egress{}, err
		}
		return egress{
			route: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
			id:    nat.ID().ToStringOutput(),
		}, nil
	case NATModeInstance:
		inst, eip, err := newNATInstance(ctx, name, v, igw, subnet, parent)
		if err != nil {
			return egress{}, err
		}
		return egress{
			route: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NetworkInterfaceId: inst.PrimaryNetworkInterfaceId}},
			id:    inst.ID().ToStringOutput(),
			ready: []any{eip.ID()},
		}, nil
	}
	return egress{route: ec2.RouteTableRouteArray{}, id: pulumi.String("").ToStringOutput()}, nil
}

// newNATGateway creates one managed NAT gateway with its Elastic IP.
func newNATGateway(ctx *pulumi.Context, name string, igw *ec2.InternetGateway, subnet pulumi.StringInput, parent pulumi.ResourceOption) (*ec2.NatGateway, error) {
	eip, err := ec2.NewEip(ctx, name+"-nat", &ec2.EipArgs{
		Domain: pulumi.String("vpc"),
		Tags:   pulumi.StringMap{"Name": pulumi.String(name + "-nat")},
	}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
	if err != nil {
		return nil, fmt.Errorf("nat eip %s: %w", name, err)
	}
	// A NAT gateway needs the internet gateway attached first:
	// https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html
	nat, err := ec2.NewNatGateway(ctx, name, &ec2.NatGatewayArgs{
		AllocationId: eip.ID(),
		SubnetId:     subnet,
		Tags:         pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
	if err != nil {
		return nil, fmt.Errorf("nat gateway %s: %w", name, err)
	}
	return nat, nil
}

// NATInstanceType is the NAT instance: the smallest Graviton burstable type
// (2 vCPU burst, 0.5 GiB). Its network baseline ("up to 5 Gbit/s") is far
// above what two small tasks send to AWS APIs:
// https://aws.amazon.com/ec2/instance-types/t4/
const NATInstanceType = "t4g.nano"

// NATInstanceVolumeGiB is the NAT instance's root volume: the size of the
// Amazon Linux 2023 AMI's snapshot (a smaller volume is refused).
const NATInstanceVolumeGiB = 8

// NATInstanceAMIParameter is the public SSM parameter naming the latest
// Amazon Linux 2023 arm64 AMI of the region, so the program never hard-codes
// an AMI id (ids differ per region and go stale):
// https://docs.aws.amazon.com/linux/al2023/ug/ec2.html#launch-via-aws-cli
const NATInstanceAMIParameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"

// natUserData turns Amazon Linux 2023 into a NAT at boot, as in the VPC user
// guide ("Create a NAT AMI"): IP forwarding on, masquerade what leaves the
// primary interface, empty FORWARD chain (default ACCEPT), rules saved where
// the iptables service restores them at boot (what the guide's `service
// iptables save` writes, without needing the service command):
// https://docs.aws.amazon.com/vpc/latest/userguide/work-with-nat-instances.html
// dnf is retried: the Elastic IP, the instance's only way out, is
// associated only after the instance exists.
func natUserData(cidr string) string {
	return `#!/bin/bash
set -euo pipefail
for i in $(seq 1 60); do dnf install -y iptables-services && break; sleep 10; done
systemctl enable --now iptables
echo 'net.ipv4.ip_forward=1' > /etc/sysctl.d/90-nat.conf
sysctl -p /etc/sysctl.d/90-nat.conf
dev=$(ip -o -4 route show to default | awk '{print $5; exit}')
iptables -t nat -A POSTROUTING -o "$dev" -s ` + cidr + ` -j MASQUERADE
iptables -F FORWARD
iptables-save > /etc/sysconfig/iptables
`
}

// newNATInstance creates the NAT instance in the public subnet with its own
// security group (TCP 443 in from the VPC only, 443 out: all the tasks send)
// and Elastic IP. Source/destination checking is off, or EC2 drops every
// packet the instance forwards.
func newNATInstance(ctx *pulumi.Context, name string, v *ec2.Vpc, igw *ec2.InternetGateway, subnet pulumi.StringInput, parent pulumi.ResourceOption) (*ec2.Instance, *ec2.Eip, error) {
	ami, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: NATInstanceAMIParameter})
	if err != nil {
		return nil, nil, fmt.Errorf("nat instance %s: look up AMI %s: %w", name, NATInstanceAMIParameter, err)
	}
	sg, err := newHTTPSFromVPCGroup(ctx, name+"-nat", "NAT instance: HTTPS from the VPC only", "HTTPS to forward from the VPC", v, parent)
	if err != nil {
		return nil, nil, err
	}
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-nat-https", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: sg.ID(),
		Description:     pulumi.String("forwarded HTTPS and package installs to the internet"),
		IpProtocol:      pulumi.String("tcp"),
		FromPort:        pulumi.Int(443),
		ToPort:          pulumi.Int(443),
		CidrIpv4:        pulumi.String("0.0.0.0/0"),
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("nat egress rule %s: %w", name, err)
	}
	// ami is ignored after creation: a new AMI published under the
	// parameter must not replace a running NAT (an outage) on some later
	// `up`; replace the instance deliberately instead (docs/cost.md).
	inst, err := ec2.NewInstance(ctx, name+"-nat", &ec2.InstanceArgs{
		Ami:                 pulumi.String(ami.InsecureValue),
		InstanceType:        pulumi.String(NATInstanceType),
		SubnetId:            subnet,
		VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		SourceDestCheck:     pulumi.Bool(false),
		UserData:            pulumi.String(natUserData(vpcCidr)),
		// cloud-init runs user data once per instance: without this, a
		// changed script would be applied by stop, modify, start of the
		// same instance (the provider's default) and never run. Replacing
		// the instance runs it; the route and the Elastic IP follow the
		// new instance.
		UserDataReplaceOnChange: pulumi.Bool(true),
		// IMDSv2 only: nothing on the instance needs instance metadata v1.
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{HttpTokens: pulumi.String("required")},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			// The AL2023 AMI's own root size, stated so the cost estimate
			// reads it from the plan.
			VolumeSize: pulumi.Int(NATInstanceVolumeGiB),
			VolumeType: pulumi.String("gp3"),
			Encrypted:  pulumi.Bool(true),
		},
		Tags: pulumi.StringMap{"Name": pulumi.String(name + "-nat")},
	}, parent, pulumi.IgnoreChanges([]string{"ami"}))
	if err != nil {
		return nil, nil, fmt.Errorf("nat instance %s: %w", name, err)
	}
	// Not the NAT gateway's resource name (name+"-nat"): switching modes
	// would then update that address in place, associating it with the
	// instance while the NAT gateway, deleted only at the end of the
	// update, still holds it, which EC2 refuses. Its own name makes the
	// switch create a new address and delete the old one with its device.
	eip, err := ec2.NewEip(ctx, name+"-nat-instance", &ec2.EipArgs{
		Domain:   pulumi.String("vpc"),
		Instance: inst.ID(),
		Tags:     pulumi.StringMap{"Name": pulumi.String(name + "-nat-instance")},
	}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
	if err != nil {
		return nil, nil, fmt.Errorf("nat instance eip %s: %w", name, err)
	}
	return inst, eip, nil
}
