package program

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/stackconfig"
)

// site is where the stack goes and what it is called there, settled (or
// refused) at preview before anything is declared.
type site struct {
	Region    string
	AccountID string
	ZoneIDs   []string   // availability zone IDs of the subnets, in order
	Names     namespaces // the stack's Cloud Map namespace names
	// DomainZoneID is the hosted zone of the custom domain, when the
	// program creates its records (domain.go).
	DomainZoneID string
}

// locate reads the region, account and zones, refuses what AWS would
// refuse later (an unsupported region, too few VPC-link zones, a namespace
// too long) and names the stack's namespaces.
func locate(ctx *pulumi.Context, cfg stackconfig.Config) (site, error) {
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return site{}, fmt.Errorf("get region: %w", err)
	}
	// Refused at preview: elsewhere the stack deploys for ten minutes and
	// then fails (no Rekognition, no VPC link, no Fargate for the arch).
	if err := stackconfig.CheckRegion(stackconfig.Regions, region.Name, cfg.ECSArchitecture()); err != nil {
		return site{}, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return site{}, fmt.Errorf("get caller identity: %w", err)
	}
	// Only the region's standard zones: Local Zones and Wavelength Zones are
	// opt-in (and not where a small Fargate service belongs), so a larger
	// azCount must not pick them.
	// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html
	azs, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{
			{Name: "opt-in-status", Values: []string{"opt-in-not-required"}},
		},
	})
	if err != nil {
		return site{}, fmt.Errorf("get availability zones: %w", err)
	}
	// Zones are chosen by zone ID: the VPC link exists only in some IDs,
	// and which ID a name such as us-east-1a stands for differs per account.
	zoneIDs, err := stackconfig.ChooseZones(stackconfig.Regions, region.Name, azs.Names, azs.ZoneIds, cfg.AZCount)
	if err != nil {
		return site{}, err
	}
	if cfg.NATMode == infra.NATModeInstance {
		// The NAT instance goes to the first zone's public subnet.
		if err := checkNATInstanceZone(ctx, zoneIDs[0]); err != nil {
			return site{}, err
		}
	}
	if cfg.NATMode == infra.NATModeEndpoints {
		offered, err := endpointServiceZones(ctx, region.Name)
		if err != nil {
			return site{}, err
		}
		if err := checkEndpointZones(azs.Names, azs.ZoneIds, zoneIDs, offered); err != nil {
			return site{}, err
		}
	}
	names, err := stackNamespace(ctx.Stack(), cfg.Namespace)
	if err != nil {
		return site{}, err
	}
	domainZone, err := checkDomain(ctx, cfg, region.Name)
	if err != nil {
		return site{}, err
	}
	return site{Region: region.Name, AccountID: caller.AccountId, ZoneIDs: zoneIDs, Names: names, DomainZoneID: domainZone}, nil
}

// endpointServiceZones looks up, for each interface endpoint service of
// endpoints mode, the zone names where the region offers it. An endpoint
// service is not offered in every zone, and an endpoint with a subnet in
// another zone fails mid-deploy (CreateVpcEndpoint: "The VPC endpoint
// service ... does not support the availability zone of the subnet"):
// https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
func endpointServiceZones(ctx *pulumi.Context, region string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, svc := range infra.InterfaceEndpointServices {
		name := "com.amazonaws." + region + "." + svc
		res, err := ec2.LookupVpcEndpointService(ctx, &ec2.LookupVpcEndpointServiceArgs{ServiceName: &name})
		if err != nil {
			return nil, fmt.Errorf("%s:natMode: endpoints needs the endpoint service %s: %w", stackconfig.Namespace, name, err)
		}
		out[svc] = res.AvailabilityZones
	}
	return out, nil
}

// checkEndpointZones refuses chosen zone IDs where an endpoint service is
// not offered; offered lists zone names per service, names and ids map
// the account's zone names to IDs.
func checkEndpointZones(names, ids, chosen []string, offered map[string][]string) error {
	var missing []string
	for _, svc := range infra.InterfaceEndpointServices {
		for i, id := range ids {
			if slices.Contains(chosen, id) && !slices.Contains(offered[svc], names[i]) {
				missing = append(missing, fmt.Sprintf("%s in %s (%s)", svc, id, names[i]))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s:natMode: endpoints needs every endpoint service in every zone of the stack, but these are not offered: %s; lower %s:azCount or choose natMode gateway or instance",
			stackconfig.Namespace, strings.Join(missing, ", "), stackconfig.Namespace)
	}
	return nil
}

// checkNATInstanceZone refuses a zone where EC2 does not offer the NAT
// instance type: RunInstances would fail mid-deploy (Unsupported), and
// newer types such as Graviton t4g are missing from some zones:
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html
func checkNATInstanceZone(ctx *pulumi.Context, zoneID string) error {
	res, err := ec2.GetInstanceTypeOfferings(ctx, &ec2.GetInstanceTypeOfferingsArgs{
		LocationType: pulumi.StringRef("availability-zone-id"),
		Filters: []ec2.GetInstanceTypeOfferingsFilter{
			{Name: "instance-type", Values: []string{infra.NATInstanceType}},
			{Name: "location", Values: []string{zoneID}},
		},
	})
	if err != nil {
		return fmt.Errorf("%s:natMode: offerings of %s in %s: %w", stackconfig.Namespace, infra.NATInstanceType, zoneID, err)
	}
	return natTypeOffered(zoneID, res.Locations)
}

// natTypeOffered refuses zoneID unless it is among the zones offering the
// NAT instance type.
func natTypeOffered(zoneID string, offered []string) error {
	if !slices.Contains(offered, zoneID) {
		return fmt.Errorf("%s:natMode: instance puts a %s in zone %s, where EC2 does not offer that type; choose natMode gateway or endpoints",
			stackconfig.Namespace, infra.NATInstanceType, zoneID)
	}
	return nil
}
