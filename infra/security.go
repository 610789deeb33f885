package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SecurityGroupsArgs configures SecurityGroups.
type SecurityGroupsArgs struct {
	VpcID      pulumi.StringInput
	UploadPort int // upload's container port (8080)
	RekogPort  int // rekog's container port (9090)
}

// SecurityGroups is the chain VPC link -> upload -> rekog, each hop open
// only on the next service's port and only from the previous group.
//
// Ingress: upload accepts its port only from the VPC link group; rekog
// accepts its port only from the upload group (the Service Connect proxy of
// an upload task connects straight to the rekog task's proxy, which listens
// on rekog's container port). Nothing accepts traffic from an address range.
//
// Egress: the VPC link may only reach upload's port. The tasks need TCP 443
// to AWS public endpoints (ECR and CloudWatch Logs for the agent, S3 and
// Rekognition for the code, ECS for the Service Connect agent), reached
// through the S3 gateway endpoint for S3 and otherwise by the stack's
// natMode: the NAT gateway, the NAT instance, or (endpoints) interface VPC
// endpoints whose private DNS answers inside the VPC. Public endpoints have
// no fixed addresses, so 443 is open to 0.0.0.0/0 and nothing else is; no
// natMode changes these groups (the NAT instance and the interface
// endpoints have groups of their own, admitting HTTPS from the VPC only).
// upload may also reach rekog's port in the rekog group. DNS to the VPC
// resolver needs no rule: security groups do not filter traffic to the
// Amazon DNS server (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html).
type SecurityGroups struct {
	pulumi.ResourceState

	VpcLinkID pulumi.StringOutput `pulumi:"vpcLinkId"`
	UploadID  pulumi.StringOutput `pulumi:"uploadId"`
	RekogID   pulumi.StringOutput `pulumi:"rekogId"`
}

// NewSecurityGroups creates the three groups and their rules. Rules are
// separate vpc.SecurityGroup{Ingress,Egress}Rule resources (the provider's
// recommended form, and needed since the groups reference each other). When
// it creates a group in a VPC the provider removes AWS's default allow-all
// egress rule, so only the rules below exist ("NOTE on Egress rules"):
// https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group
func NewSecurityGroups(ctx *pulumi.Context, name string, args *SecurityGroupsArgs, opts ...pulumi.ResourceOption) (*SecurityGroups, error) {
	g := &SecurityGroups{}
	if err := ctx.RegisterComponentResource("imagelabel:security:SecurityGroups", name, g, opts...); err != nil {
		return nil, fmt.Errorf("register security groups %s: %w", name, err)
	}
	parent := pulumi.Parent(g)
	link, err := newSecurityGroup(ctx, name, "vpclink", "API Gateway VPC link: egress only to upload", args.VpcID, parent)
	if err != nil {
		return nil, err
	}
	upload, err := newSecurityGroup(ctx, name, "upload", "upload tasks: ingress from the VPC link only", args.VpcID, parent)
	if err != nil {
		return nil, err
	}
	rekog, err := newSecurityGroup(ctx, name, "rekog", "rekog tasks: ingress from upload only", args.VpcID, parent)
	if err != nil {
		return nil, err
	}
	if err := newSecurityGroupRules(ctx, name, args, link, upload, rekog, parent); err != nil {
		return nil, err
	}

	g.VpcLinkID = link.ID().ToStringOutput()
	g.UploadID = upload.ID().ToStringOutput()
	g.RekogID = rekog.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{
		"vpcLinkId": g.VpcLinkID, "uploadId": g.UploadID, "rekogId": g.RekogID,
	}); err != nil {
		return nil, fmt.Errorf("outputs of security groups %s: %w", name, err)
	}
	return g, nil
}

// newSecurityGroup creates the group of one role (suffix) of the
// SecurityGroups called name, without rules.
func newSecurityGroup(ctx *pulumi.Context, name, suffix, desc string, vpcID pulumi.StringInput, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	// Group names may not start with "sg-" (CreateSecurityGroup), which the
	// auto-name of a resource called "sg-upload" would: the name is a prefix
	// led by the role instead, to which the provider appends a unique
	// suffix, so a replacement can coexist with the group it replaces.
	// Names and descriptions (of groups and rules) accept only
	// a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$* (no apostrophe), at most
	// 255 characters: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
	// (rule descriptions: API_UserIdGroupPair.html, where '&' is not listed
	// either). internal/awsrules checks every value sent.
	sg, err := ec2.NewSecurityGroup(ctx, name+"-"+suffix, &ec2.SecurityGroupArgs{
		VpcId:       vpcID,
		NamePrefix:  pulumi.String(suffix + "-" + name + "-"),
		Description: pulumi.String(desc),
		Tags:        pulumi.StringMap{"Name": pulumi.String(name + "-" + suffix)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("security group %s-%s: %w", name, suffix, err)
	}
	return sg, nil
}

// newSecurityGroupRules creates the ingress and egress rules of the chain
// VPC link -> upload -> rekog (see SecurityGroups).
func newSecurityGroupRules(ctx *pulumi.Context, name string, args *SecurityGroupsArgs, link, upload, rekog *ec2.SecurityGroup, parent pulumi.ResourceOption) error {
	type rule struct {
		suffix, desc string
		group        *ec2.SecurityGroup
		port         int
		peer         *ec2.SecurityGroup // nil: cidr 0.0.0.0/0
	}
	ingress := []rule{
		{"upload-from-vpclink", "upload port from the VPC link", upload, args.UploadPort, link},
		{"rekog-from-upload", "rekog port from upload", rekog, args.RekogPort, upload},
	}
	egress := []rule{
		{"vpclink-to-upload", "VPC link to the upload port", link, args.UploadPort, upload},
		{"upload-to-rekog", "upload to the rekog port (Service Connect)", upload, args.RekogPort, rekog},
		{"upload-https", "upload to AWS endpoints over HTTPS (S3, ECR, Logs, ECS)", upload, 443, nil},
		{"rekog-https", "rekog to AWS endpoints over HTTPS (Rekognition, ECR, Logs, ECS)", rekog, 443, nil},
	}
	for _, r := range ingress {
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-"+r.suffix, &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId:           r.group.ID(),
			Description:               pulumi.String(r.desc),
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(r.port),
			ToPort:                    pulumi.Int(r.port),
			ReferencedSecurityGroupId: r.peer.ID(),
		}, parent); err != nil {
			return fmt.Errorf("ingress rule %s-%s: %w", name, r.suffix, err)
		}
	}
	for _, r := range egress {
		a := &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: r.group.ID(),
			Description:     pulumi.String(r.desc),
			IpProtocol:      pulumi.String("tcp"),
			FromPort:        pulumi.Int(r.port),
			ToPort:          pulumi.Int(r.port),
		}
		if r.peer != nil {
			a.ReferencedSecurityGroupId = r.peer.ID()
		} else {
			a.CidrIpv4 = pulumi.String("0.0.0.0/0")
		}
		if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-"+r.suffix, a, parent); err != nil {
			return fmt.Errorf("egress rule %s-%s: %w", name, r.suffix, err)
		}
	}
	return nil
}
