package program

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/app/upload/memlimit"
	"imagelabel/infra"
	"imagelabel/internal/stackconfig"
)

// Ports of the services (the service contract).
const (
	UploadPort = 8080
	RekogPort  = 9090
)

// Service Connect timeouts of rekog. upload gives a rekog call 20 s (and
// S3 5 s: 25 s in all, under the API's 29 s integration timeout), so the proxy's per-request limit sits just above upload's own
// deadline: upload's clean 504 fires first, the proxy only catches a client
// that forgot its deadline.
const (
	RekogPerRequestTimeout = 25
	rekogIdleTimeout       = 60
)

// keepImages is how many images each ECR repository keeps.
const keepImages = 10

// Builder prepares the Docker build context of a service for goarch. The
// ordinary program builds with imagelabel/internal/build (BuildImage); the
// offline plan and the tests replace it with a fake that builds nothing.
type Builder func(service, goarch string) (infra.ImageSource, error)

// Outputs are the stack outputs (names are the contract the client reads).
type Outputs struct {
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
	// Access are the outputs of apiAuth and the custom domain, present
	// only when those are configured (domain.go).
	Access map[string]pulumi.StringOutput
}

// Map returns the outputs under their exported names.
func (o *Outputs) Map() map[string]pulumi.StringOutput {
	m := map[string]pulumi.StringOutput{
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
	for k, v := range o.Access {
		m[k] = v
	}
	return m
}

// Deploy declares the whole system. It is the body of `pulumi up`, of the
// offline plan and of the tests.
func Deploy(ctx *pulumi.Context, cfg stackconfig.Config, build Builder) (*Outputs, error) {
	where, err := locate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &system{cfg: cfg, where: where}
	if err := s.declareBase(ctx); err != nil {
		return nil, err
	}
	if err := s.declareImages(ctx, build); err != nil {
		return nil, err
	}
	if err := s.declareRoles(ctx); err != nil {
		return nil, err
	}
	if err := s.declareAPI(ctx); err != nil {
		return nil, err
	}
	if err := s.declareDomain(ctx); err != nil {
		return nil, err
	}
	if err := s.declareServices(ctx); err != nil {
		return nil, err
	}
	if err := declareBudget(ctx, cfg); err != nil {
		return nil, err
	}
	return s.outputs(), nil
}

// system is what Deploy has declared so far, for the steps after it.
type system struct {
	cfg   stackconfig.Config
	where site

	net        *infra.Network
	sgs        *infra.SecurityGroups
	cluster    *infra.Cluster
	store      *infra.Storage
	images     map[string]*infra.Image // by service
	uploadRole *infra.TaskRole
	rekogRole  *infra.TaskRole
	api        *infra.API
	domain     *infra.Domain // nil without domainName
	rekog      *infra.FargateService
	upload     *infra.FargateService
}

// declareBase declares the network, the security groups, the cluster and
// the bucket.
func (s *system) declareBase(ctx *pulumi.Context) error {
	var err error
	s.net, err = infra.NewNetwork(ctx, "net", &infra.NetworkArgs{
		AZs:     s.where.ZoneIDs,
		Region:  s.where.Region,
		NATMode: s.cfg.NATMode,

		AccountID:        s.where.AccountID,
		LogRetentionDays: s.cfg.LogRetentionDays,
	})
	if err != nil {
		return err
	}
	s.sgs, err = infra.NewSecurityGroups(ctx, "sg", &infra.SecurityGroupsArgs{
		VpcID:      s.net.VpcID,
		UploadPort: UploadPort,
		RekogPort:  RekogPort,
	})
	if err != nil {
		return err
	}
	s.cluster, err = infra.NewCluster(ctx, "cluster", &infra.ClusterArgs{
		Namespace:         s.where.Names.ServiceConnect,
		ContainerInsights: s.cfg.ContainerInsights,
	})
	if err != nil {
		return err
	}
	s.store, err = infra.NewStorage(ctx, "images", &infra.StorageArgs{ImageRetentionDays: s.cfg.ImageRetentionDays})
	return err
}

// declareImages builds each service for the configured architecture and
// declares its repository and image.
func (s *system) declareImages(ctx *pulumi.Context, build Builder) error {
	goarch := s.cfg.GOARCH()
	platform := "linux/" + goarch
	s.images = map[string]*infra.Image{}
	for _, svc := range []string{"rekog", "upload"} {
		src, err := build(svc, goarch)
		if err != nil {
			return fmt.Errorf("build %s for %s: %w", svc, goarch, err)
		}
		img, err := infra.NewImage(ctx, svc, &infra.ImageArgs{Source: src, Platform: platform, KeepImages: keepImages})
		if err != nil {
			return err
		}
		s.images[svc] = img
	}
	return nil
}

// declareRoles declares each service's task role with only its actions on
// the bucket.
func (s *system) declareRoles(ctx *pulumi.Context) error {
	var err error
	s.uploadRole, err = infra.NewTaskRole(ctx, "upload-task", &infra.TaskRoleArgs{
		AccountID: s.where.AccountID, Region: s.where.Region,
		Policy: infra.UploadTaskPolicy(s.store.BucketArn),
	})
	if err != nil {
		return err
	}
	s.rekogRole, err = infra.NewTaskRole(ctx, "rekog-task", &infra.TaskRoleArgs{
		AccountID: s.where.AccountID, Region: s.where.Region,
		Policy: infra.RekogTaskPolicy(s.store.BucketArn),
	})
	return err
}

// declareAPI declares the HTTP API, its VPC link and the discovery service
// upload registers in.
func (s *system) declareAPI(ctx *pulumi.Context) error {
	var err error
	s.api, err = infra.NewAPI(ctx, "api", &infra.APIArgs{
		VpcID:                  s.net.VpcID,
		SubnetIDs:              s.net.PrivateSubnetIDs,
		VpcLinkSecurityGroupID: s.sgs.VpcLinkID,
		DiscoveryNamespace:     s.where.Names.Discovery,
		DiscoveryService:       "upload",
		ThrottleRate:           s.cfg.APIThrottleRate,
		ThrottleBurst:          s.cfg.APIThrottleBurst,
		LogRetentionDays:       s.cfg.LogRetentionDays,

		IAMAuth:                   s.cfg.APIAuth == stackconfig.APIAuthIAM,
		DisableExecuteAPIEndpoint: s.cfg.DisableDefaultEndpoint,
	})
	return err
}

// declareServices declares rekog, then upload: a Service Connect client
// only knows the endpoints that existed when its task started:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
func (s *system) declareServices(ctx *pulumi.Context) error {
	rekogServer := &infra.ServiceConnectServer{
		DiscoveryName:            "rekog",
		DNSName:                  "rekog." + s.where.Names.ServiceConnect,
		Port:                     RekogPort,
		PerRequestTimeoutSeconds: RekogPerRequestTimeout,
		IdleTimeoutSeconds:       rekogIdleTimeout,
	}
	var err error
	s.rekog, err = infra.NewFargateService(ctx, "rekog", s.serviceArgs(&infra.FargateServiceArgs{
		Container:        "rekog",
		Image:            s.images["rekog"].RepoDigest,
		Port:             RekogPort,
		CPU:              s.cfg.RekogCPU,
		Memory:           s.cfg.RekogMemory,
		Env:              s.sharedEnv(RekogPort),
		SecurityGroupIDs: pulumi.StringArray{s.sgs.RekogID},
		TaskRoleArn:      s.rekogRole.RoleArn,
		RepositoryArn:    s.images["rekog"].RepositoryArn,
		Server:           rekogServer,
	}))
	if err != nil {
		return err
	}
	// upload starts after rekog exists (DependsOn).
	s.upload, err = infra.NewFargateService(ctx, "upload", s.serviceArgs(&infra.FargateServiceArgs{
		Container:        "upload",
		Image:            s.images["upload"].RepoDigest,
		Port:             UploadPort,
		CPU:              s.cfg.UploadCPU,
		Memory:           s.cfg.UploadMemory,
		Env:              s.uploadEnv(rekogServer),
		SecurityGroupIDs: pulumi.StringArray{s.sgs.UploadID},
		TaskRoleArn:      s.uploadRole.RoleArn,
		RepositoryArn:    s.images["upload"].RepositoryArn,
		Registry:         &infra.ServiceRegistry{RegistryArn: s.api.DiscoveryServiceArn},
		DependsOn:        []pulumi.Resource{s.rekog.Service()},
	}))
	return err
}

// serviceArgs completes a service's args with what both services share.
func (s *system) serviceArgs(a *infra.FargateServiceArgs) *infra.FargateServiceArgs {
	a.CPUArch = s.cfg.ECSArchitecture()
	a.ClusterArn = s.cluster.ClusterArn
	a.ClusterName = s.cluster.ClusterName
	// Tasks start only once their subnets can reach ECR, S3 and logs.
	a.SubnetIDs = s.net.TaskSubnetIDs
	a.AccountID = s.where.AccountID
	a.Region = s.where.Region
	a.LogRetentionDays = s.cfg.LogRetentionDays
	a.DesiredCount = s.cfg.DesiredCount
	a.MaxCount = s.cfg.MaxCount
	a.NamespaceArn = s.cluster.NamespaceArn
	if s.cfg.Spot {
		a.CapacityProviders = infra.SpotStrategy(s.cfg.SpotOnDemandBase)
	}
	return a
}

// sharedEnv is the environment both services read (docs/services.md).
func (s *system) sharedEnv(port int) map[string]pulumi.StringInput {
	return map[string]pulumi.StringInput{
		"PORT":           pulumi.String(strconv.Itoa(port)),
		"BUCKET":         s.store.BucketName,
		"AWS_REGION":     pulumi.String(s.where.Region),
		"LOG_LEVEL":      pulumi.String("info"),
		"MAX_LABELS":     pulumi.String("10"),
		"MIN_CONFIDENCE": pulumi.String("70"),
	}
}

// uploadEnv is upload's environment: the shared one, the address of rekog
// (served as rekog) and the limits that follow from the config and the
// task's memory.
func (s *system) uploadEnv(rekog *infra.ServiceConnectServer) map[string]pulumi.StringInput {
	env := s.sharedEnv(UploadPort)
	// Built from rekog's client alias, never written by hand.
	env["REKOG_URL"] = pulumi.String(fmt.Sprintf("http://%s:%d", rekog.DNSName, rekog.Port))
	env["MAX_UPLOAD_BYTES"] = pulumi.String(strconv.FormatInt(s.cfg.MaxUploadBytes, 10))
	// upload's memory scales with its task (docs/services.md): image buffers
	// within 3/16 of the task, and the Go heap soft-limited to what is left
	// after the Service Connect proxy's share and those buffers.
	env["UPLOAD_BUFFER_BYTES"] = pulumi.String(strconv.FormatInt(memlimit.BufferBytes(s.cfg.UploadMemory), 10))
	env["GOMEMLIMIT"] = pulumi.String(memlimit.GoMemLimit(s.cfg.UploadMemory))
	if s.cfg.APIAuth == stackconfig.APIAuthIAM {
		// The page tells visitors uploads need signed requests.
		env["API_AUTH"] = pulumi.String(stackconfig.APIAuthIAM)
	}
	return env
}

// outputs are the stack outputs of what was declared.
func (s *system) outputs() *Outputs {
	apiURL := s.api.URL
	if s.domain != nil {
		apiURL = s.domain.URL
	}
	return &Outputs{
		APIURL:                  apiURL,
		BucketName:              s.store.BucketName,
		ClusterName:             s.cluster.ClusterName,
		Region:                  pulumi.String(s.where.Region).ToStringOutput(),
		ServiceConnectNamespace: s.cluster.NamespaceName,
		UploadImage:             s.images["upload"].RepoDigest,
		RekogImage:              s.images["rekog"].RepoDigest,
		UploadLogGroup:          s.upload.LogGroupName,
		RekogLogGroup:           s.rekog.LogGroupName,
		APILogGroup:             s.api.LogGroupName,
		Access:                  s.accessOutputs(),
	}
}
