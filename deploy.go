package main

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
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

// deploy declares the whole system. It is the body of `pulumi up`, of the
// offline plan and of the tests.
func deploy(ctx *pulumi.Context, cfg Config, build builder) (*outputs, error) {
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("get region: %w", err)
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("get caller identity: %w", err)
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
		return nil, fmt.Errorf("get availability zones: %w", err)
	}
	if len(azs.Names) < cfg.AZCount {
		return nil, fmt.Errorf("%s:azCount: %d zones requested, region %s has %d available", configNamespace, cfg.AZCount, region.Name, len(azs.Names))
	}

	net, err := infra.NewNetwork(ctx, "net", &infra.NetworkArgs{
		AZs:     azs.Names[:cfg.AZCount],
		Region:  region.Name,
		NATMode: cfg.NATMode,

		AccountID:        caller.AccountId,
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
		Namespace:         cfg.Namespace,
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
		AccountID: caller.AccountId, Region: region.Name,
		Policy: infra.UploadTaskPolicy(store.BucketArn),
	})
	if err != nil {
		return nil, err
	}
	rekogRole, err := infra.NewTaskRole(ctx, "rekog-task", &infra.TaskRoleArgs{
		AccountID: caller.AccountId, Region: region.Name,
		Policy: infra.RekogTaskPolicy(store.BucketArn),
	})
	if err != nil {
		return nil, err
	}

	api, err := infra.NewAPI(ctx, "api", &infra.APIArgs{
		VpcID:                  net.VpcID,
		SubnetIDs:              net.PrivateSubnetIDs,
		VpcLinkSecurityGroupID: sgs.VpcLinkID,
		DiscoveryNamespace:     "api." + cfg.Namespace,
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
		a.SubnetIDs = net.PrivateSubnetIDs
		a.AccountID = caller.AccountId
		a.Region = region.Name
		a.LogRetentionDays = cfg.LogRetentionDays
		a.DesiredCount = cfg.DesiredCount
		a.MaxCount = cfg.MaxCount
		a.NamespaceArn = cluster.NamespaceArn
		return a
	}
	sharedEnv := func(port int) map[string]pulumi.StringInput {
		return map[string]pulumi.StringInput{
			"PORT":           pulumi.String(strconv.Itoa(port)),
			"BUCKET":         store.BucketName,
			"AWS_REGION":     pulumi.String(region.Name),
			"LOG_LEVEL":      pulumi.String("info"),
			"MAX_LABELS":     pulumi.String("10"),
			"MIN_CONFIDENCE": pulumi.String("70"),
		}
	}

	rekogServer := &infra.ServiceConnectServer{
		DiscoveryName:            "rekog",
		DNSName:                  "rekog." + cfg.Namespace,
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

	return &outputs{
		APIURL:                  api.URL,
		BucketName:              store.BucketName,
		ClusterName:             cluster.ClusterName,
		Region:                  pulumi.String(region.Name).ToStringOutput(),
		ServiceConnectNamespace: cluster.NamespaceName,
		UploadImage:             images["upload"].RepoDigest,
		RekogImage:              images["rekog"].RepoDigest,
		UploadLogGroup:          upload.LogGroupName,
		RekogLogGroup:           rekog.LogGroupName,
		APILogGroup:             api.LogGroupName,
	}, nil
}
