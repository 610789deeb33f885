package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/app/upload/memlimit"
	"imagelabel/infra"
)

// Ports of the services (the service contract).
const (
	uploadPort = 8080
	rekogPort  = 9090
)

// Service Connect timeouts of rekog. upload gives a rekog call 20 s (and
// S3 5 s: 25 s in all, under the API's 29 s integration timeout), so the proxy's per-request limit sits just above upload's own
// deadline: upload's clean 504 fires first, the proxy only catches a client
// that forgot its deadline.
const (
	rekogPerRequestTimeout = 25
	rekogIdleTimeout       = 60
)

// keepImages is how many images each ECR repository keeps.
const keepImages = 10

// builder prepares the Docker build context of a service for goarch. The
// ordinary program builds with imagelabel/internal/build; plan and tests
// replace it with a fake that builds nothing.
type builder func(service, goarch string) (infra.ImageSource, error)

// outputs are the stack outputs (names are the contract the client reads).
type outputs struct {
	APIURL                  pulumi.StringOutput
	BucketName              pulumi.StringOutput
	ClusterName             pulumi.StringOutput
	Region                  pulumi.StringOutput
	ServiceConnectNamespace pulumi.StringOutput
	UploadImage             pulumi.StringOutput
	RekogImage              pulumi.StringOutput
	UploadLogGroup          pulumi.StringOutput
	RekogLogGroup           pulumi.StringOutput
	APILogGroup             pulumi.StringOutput
}

// Map returns the outputs under their exported names.
func (o *outputs) Map() map[string]pulumi.StringOutput {
	return map[string]pulumi.StringOutput{
		"apiUrl":                  o.APIURL,
		"bucketName":              o.BucketName,
		"clusterName":             o.ClusterName,
		"region":                  o.Region,
		"serviceConnectNamespace": o.ServiceConnectNamespace,
		"uploadImage":             o.UploadImage,
		"rekogImage":              o.RekogImage,
		"uploadLogGroup":          o.UploadLogGroup,
		"rekogLogGroup":           o.RekogLogGroup,
		"apiLogGroup":             o.APILogGroup,
	}
}

// site is where the stack goes and what it is called there, settled (or
// refused) at preview before anything is declared.
type site struct {
	Region    string
	AccountID string
	ZoneIDs   []string   // availability zone IDs of the subnets, in order
	Names     namespaces // the stack's Cloud Map namespace names
}

// locate reads the region, account and zones, refuses what AWS would
// refuse later (an unsupported region, too few VPC-link zones, a namespace
// too long) and names the stack's namespaces.
func locate(ctx *pulumi.Context, cfg Config) (site, error) {
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return site{}, fmt.Errorf("get region: %w", err)
	}
	// Refused at preview: elsewhere the stack deploys for ten minutes and
	// then fails (no Rekognition, no VPC link, no Fargate for the arch).
	if err := checkRegion(regionTable, region.Name, cfg.ECSArchitecture()); err != nil {
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
	zoneIDs, err := chooseZones(regionTable, region.Name, azs.Names, azs.ZoneIds, cfg.AZCount)
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
	return site{Region: region.Name, AccountID: caller.AccountId, ZoneIDs: zoneIDs, Names: names}, nil
}

// deploy declares the whole system. It is the body of `pulumi up`, of the
// offline plan and of the tests.
func deploy(ctx *pulumi.Context, cfg Config, build builder) (*outputs, error) {
	where, err := locate(ctx, cfg)
	if err != nil {
		return nil, err
	}

	net, err := infra.NewNetwork(ctx, "net", &infra.NetworkArgs{
		AZs:     where.ZoneIDs,
		Region:  where.Region,
		NATMode: cfg.NATMode,

		AccountID:        where.AccountID,
		LogRetentionDays: cfg.LogRetentionDays,
	})
	if err != nil {
		return nil, err
	}
	sgs, err := infra.NewSecurityGroups(ctx, "sg", &infra.SecurityGroupsArgs{
		VpcID:      net.VpcID,
		UploadPort: uploadPort,
		RekogPort:  rekogPort,
	})
	if err != nil {
		return nil, err
	}
	cluster, err := infra.NewCluster(ctx, "cluster", &infra.ClusterArgs{
		Namespace:         where.Names.ServiceConnect,
		ContainerInsights: cfg.ContainerInsights,
	})
	if err != nil {
		return nil, err
	}
	store, err := infra.NewStorage(ctx, "images", &infra.StorageArgs{ImageRetentionDays: cfg.ImageRetentionDays})
	if err != nil {
		return nil, err
	}

	platform := "linux/" + cfg.GOARCH()
	images := map[string]*infra.Image{}
	for _, svc := range []string{"rekog", "upload"} {
		src, err := build(svc, cfg.GOARCH())
		if err != nil {
			return nil, fmt.Errorf("build %s for %s: %w", svc, cfg.GOARCH(), err)
		}
		img, err := infra.NewImage(ctx, svc, &infra.ImageArgs{Source: src, Platform: platform, KeepImages: keepImages})
		if err != nil {
			return nil, err
		}
		images[svc] = img
	}

	uploadRole, err := infra.NewTaskRole(ctx, "upload-task", &infra.TaskRoleArgs{
		AccountID: where.AccountID, Region: where.Region,
		Policy: infra.UploadTaskPolicy(store.BucketArn),
	})
	if err != nil {
		return nil, err
	}
	rekogRole, err := infra.NewTaskRole(ctx, "rekog-task", &infra.TaskRoleArgs{
		AccountID: where.AccountID, Region: where.Region,
		Policy: infra.RekogTaskPolicy(store.BucketArn),
	})
	if err != nil {
		return nil, err
	}

	api, err := infra.NewAPI(ctx, "api", &infra.APIArgs{
		VpcID:                  net.VpcID,
		SubnetIDs:              net.PrivateSubnetIDs,
		VpcLinkSecurityGroupID: sgs.VpcLinkID,
		DiscoveryNamespace:     where.Names.Discovery,
		DiscoveryService:       "upload",
		ThrottleRate:           cfg.APIThrottleRate,
		ThrottleBurst:          cfg.APIThrottleBurst,
		LogRetentionDays:       cfg.LogRetentionDays,
	})
	if err != nil {
		return nil, err
	}

	common := func(a *infra.FargateServiceArgs) *infra.FargateServiceArgs {
		a.CPUArch = cfg.ECSArchitecture()
		a.ClusterArn = cluster.ClusterArn
		a.ClusterName = cluster.ClusterName
		// Tasks start only once their subnets can reach ECR, S3 and logs.
		a.SubnetIDs = net.TaskSubnetIDs
		a.AccountID = where.AccountID
		a.Region = where.Region
		a.LogRetentionDays = cfg.LogRetentionDays
		a.DesiredCount = cfg.DesiredCount
		a.MaxCount = cfg.MaxCount
		a.NamespaceArn = cluster.NamespaceArn
		if cfg.Spot {
			a.CapacityProviders = infra.SpotStrategy(cfg.SpotOnDemandBase)
		}
		return a
	}
	sharedEnv := func(port int) map[string]pulumi.StringInput {
		return map[string]pulumi.StringInput{
			"PORT":           pulumi.String(strconv.Itoa(port)),
			"BUCKET":         store.BucketName,
			"AWS_REGION":     pulumi.String(where.Region),
			"LOG_LEVEL":      pulumi.String("info"),
			"MAX_LABELS":     pulumi.String("10"),
			"MIN_CONFIDENCE": pulumi.String("70"),
		}
	}

	rekogServer := &infra.ServiceConnectServer{
		DiscoveryName:            "rekog",
		DNSName:                  "rekog." + where.Names.ServiceConnect,
		Port:                     rekogPort,
		PerRequestTimeoutSeconds: rekogPerRequestTimeout,
		IdleTimeoutSeconds:       rekogIdleTimeout,
	}
	rekog, err := infra.NewFargateService(ctx, "rekog", common(&infra.FargateServiceArgs{
		Container:        "rekog",
		Image:            images["rekog"].RepoDigest,
		Port:             rekogPort,
		CPU:              cfg.RekogCPU,
		Memory:           cfg.RekogMemory,
		Env:              sharedEnv(rekogPort),
		SecurityGroupIDs: pulumi.StringArray{sgs.RekogID},
		TaskRoleArn:      rekogRole.RoleArn,
		RepositoryArn:    images["rekog"].RepositoryArn,
		Server:           rekogServer,
	}))
	if err != nil {
		return nil, err
	}

	uploadEnv := sharedEnv(uploadPort)
	// Built from rekog's client alias, never written by hand.
	uploadEnv["REKOG_URL"] = pulumi.String(fmt.Sprintf("http://%s:%d", rekogServer.DNSName, rekogServer.Port))
	uploadEnv["MAX_UPLOAD_BYTES"] = pulumi.String(strconv.FormatInt(cfg.MaxUploadBytes, 10))
	// upload's memory scales with its task (docs/services.md): image buffers
	// within 3/16 of the task, and the Go heap soft-limited to what is left
	// after the Service Connect proxy's share and those buffers.
	uploadEnv["UPLOAD_BUFFER_BYTES"] = pulumi.String(strconv.FormatInt(memlimit.BufferBytes(cfg.UploadMemory), 10))
	uploadEnv["GOMEMLIMIT"] = pulumi.String(memlimit.GoMemLimit(cfg.UploadMemory))
	// upload starts after rekog exists: a Service Connect client only knows
	// the endpoints that existed when its task started:
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
	upload, err := infra.NewFargateService(ctx, "upload", common(&infra.FargateServiceArgs{
		Container:        "upload",
		Image:            images["upload"].RepoDigest,
		Port:             uploadPort,
		CPU:              cfg.UploadCPU,
		Memory:           cfg.UploadMemory,
		Env:              uploadEnv,
		SecurityGroupIDs: pulumi.StringArray{sgs.UploadID},
		TaskRoleArn:      uploadRole.RoleArn,
		RepositoryArn:    images["upload"].RepositoryArn,
		Registry:         &infra.ServiceRegistry{RegistryArn: api.DiscoveryServiceArn},
		DependsOn:        []pulumi.Resource{rekog.Service()},
	}))
	if err != nil {
		return nil, err
	}

	if err := declareBudget(ctx, cfg); err != nil {
		return nil, err
	}

	return &outputs{
		APIURL:                  api.URL,
		BucketName:              store.BucketName,
		ClusterName:             cluster.ClusterName,
		Region:                  pulumi.String(where.Region).ToStringOutput(),
		ServiceConnectNamespace: cluster.NamespaceName,
		UploadImage:             images["upload"].RepoDigest,
		RekogImage:              images["rekog"].RepoDigest,
		UploadLogGroup:          upload.LogGroupName,
		RekogLogGroup:           rekog.LogGroupName,
		APILogGroup:             api.LogGroupName,
	}, nil
}

// namespaces are the two Cloud Map namespace names of a stack. Cloud Map
// makes namespace names unique per account and region
// (NamespaceAlreadyExists), so each carries the stack:
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html
type namespaces struct {
	ServiceConnect string // <stack>.<namespace>: rekog is rekog.<this>
	Discovery      string // api.<stack>.<namespace>: upload's SRV records
}

// maxDNSName is the longest DNS name (RFC 1035), the bound of a private DNS
// namespace's name.
const maxDNSName = 253

// stackNamespace derives the stack's namespace names from the configured
// domain. Every stack gets its own names whatever the config says, so two
// stacks with the same config never collide.
func stackNamespace(stack, domain string) (namespaces, error) {
	sc := stackLabel(stack) + "." + domain
	ns := namespaces{ServiceConnect: sc, Discovery: "api." + sc}
	if len(ns.Discovery) > maxDNSName {
		return namespaces{}, fmt.Errorf("%s:namespace: %q with the stack makes %q, longer than %d characters", configNamespace, domain, ns.Discovery, maxDNSName)
	}
	return ns, nil
}

// stackLabel turns a Pulumi stack name (letters, digits, '-', '_', '.')
// into one DNS label: lowercase letters, digits and inner hyphens, at most
// 63 characters. A name that had to change gets a short hash of the
// original, so "Dev" and "dev", or "a.b" and "a-b", stay distinct.
func stackLabel(stack string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(stack) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	label := strings.Trim(b.String(), "-")
	if label == stack && len(label) <= 63 {
		return label
	}
	suffix := hexID(6, stack)
	if room := 63 - len(suffix) - 1; len(label) > room {
		label = strings.TrimRight(label[:room], "-")
	}
	if label == "" {
		return "s-" + suffix
	}
	return label + "-" + suffix
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
			return nil, fmt.Errorf("%s:natMode: endpoints needs the endpoint service %s: %w", configNamespace, name, err)
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
			configNamespace, strings.Join(missing, ", "), configNamespace)
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
		return fmt.Errorf("%s:natMode: offerings of %s in %s: %w", configNamespace, infra.NATInstanceType, zoneID, err)
	}
	return natTypeOffered(zoneID, res.Locations)
}

// natTypeOffered refuses zoneID unless it is among the zones offering the
// NAT instance type.
func natTypeOffered(zoneID string, offered []string) error {
	if !slices.Contains(offered, zoneID) {
		return fmt.Errorf("%s:natMode: instance puts a %s in zone %s, where EC2 does not offer that type; choose natMode gateway or endpoints",
			configNamespace, infra.NATInstanceType, zoneID)
	}
	return nil
}
