package infra

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// StopTimeoutSeconds is the container stopTimeout: the time between SIGTERM
// and SIGKILL. The services give in-flight requests up to 25 s after SIGTERM
// (docs/services.md, "Timeouts, limits and shutdown"); 30 s leaves a margin.
// Fargate allows at most 120 s:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_timeout
const StopTimeoutSeconds = 30

// ServiceConnectServer makes a service reachable through Service Connect
// as <DNSName>:<Port>.
type ServiceConnectServer struct {
	DiscoveryName string // Cloud Map service name in the HTTP namespace
	DNSName       string // client alias DNS name, e.g. rekog.imagelabel.internal
	Port          int    // client alias port
	// PerRequestTimeoutSeconds bounds one request through the proxy
	// (default 15 s); IdleTimeoutSeconds closes idle connections (default
	// 300 s): https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html
	PerRequestTimeoutSeconds int
	IdleTimeoutSeconds       int
}

// ServiceRegistry registers the tasks in a Cloud Map service with SRV
// records (the API's VPC link integration discovers them there).
type ServiceRegistry struct {
	RegistryArn pulumi.StringInput
}

// FargateServiceArgs configures a FargateService.
type FargateServiceArgs struct {
	// Container is the container, port mapping and binary name: the image
	// runs /<Container>, and the health check runs /<Container> -healthcheck.
	Container string
	Image     pulumi.StringInput // image reference, pinned by digest
	Port      int
	CPU       int    // task CPU units (a Fargate size)
	Memory    int    // task memory MiB (valid for CPU)
	CPUArch   string // runtimePlatform cpuArchitecture: ARM64 or X86_64
	// Env is the container environment (sorted by name in the definition).
	Env map[string]pulumi.StringInput

	ClusterArn       pulumi.StringInput
	ClusterName      pulumi.StringInput
	SubnetIDs        pulumi.StringArrayInput // private subnets
	SecurityGroupIDs pulumi.StringArrayInput
	TaskRoleArn      pulumi.StringInput
	RepositoryArn    pulumi.StringInput // the execution role may pull only from it

	AccountID        string
	Region           string
	LogRetentionDays int

	DesiredCount int
	// MaxCount above DesiredCount adds target-tracking autoscaling on
	// average CPU between DesiredCount and MaxCount.
	MaxCount int
	// CapacityProviders places the tasks by this capacity provider
	// strategy (OnDemandStrategy, the default, or SpotStrategy). The
	// services never use the FARGATE launch type: switching between it and
	// a strategy replaces the service (terraform-provider-aws issue 22823).
	CapacityProviders []CapacityProviderShare

	// NamespaceArn is the Service Connect namespace. Every service is at
	// least a Service Connect client of it.
	NamespaceArn pulumi.StringInput
	// Server, when set, also publishes this service through Service Connect.
	Server *ServiceConnectServer
	// Registry, when set, registers the tasks in a Cloud Map SRV service.
	Registry *ServiceRegistry
	// DependsOn orders the ECS service after these resources. Children do
	// not inherit the component's own dependencies, so ordering between
	// services must be passed here, as the other service's Service().
	DependsOn []pulumi.Resource
}

// FargateService is one ECS service on Fargate with its task definition,
// execution role, log group and optional autoscaling.
type FargateService struct {
	pulumi.ResourceState

	ServiceName       pulumi.StringOutput `pulumi:"serviceName"`
	ServiceArn        pulumi.StringOutput `pulumi:"serviceArn"`
	TaskDefinitionArn pulumi.StringOutput `pulumi:"taskDefinitionArn"`
	LogGroupName      pulumi.StringOutput `pulumi:"logGroupName"`
	ExecutionRoleArn  pulumi.StringOutput `pulumi:"executionRoleArn"`

	service *ecs.Service
}

// Service returns the ECS service resource itself, for ordering another
// resource after it. (Depending on the component would not do: a component
// stands only for the children already registered when the dependent
// resource is sent, and the ECS service registers last.)
func (s *FargateService) Service() *ecs.Service { return s.service }

// Container health check: the scratch image has no shell, so CMD (not
// CMD-SHELL) runs the binary's own probe. Limits: interval 5-300 s, timeout
// 2-60 s (the stricter bound AWS has documented), retries 1-10, startPeriod
// 0-300 s: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
const (
	healthInterval    = 15
	healthTimeout     = 5
	healthRetries     = 3
	healthStartPeriod = 10
)

// containerDefinitions renders the single-container definition list.
func containerDefinitions(a *FargateServiceArgs, image, logGroup string, env map[string]string) (string, error) {
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	envList := make([]map[string]string, 0, len(names))
	for _, k := range names {
		envList = append(envList, map[string]string{"name": k, "value": env[k]})
	}
	def := []map[string]any{{
		"name":      a.Container,
		"image":     image,
		"essential": true,
		// The services write nothing to disk (logs go to stdout).
		"readonlyRootFilesystem": true,
		// Same non-root user as the Dockerfile's USER, stated here too so
		// the task definition alone shows it; no Linux capabilities are
		// needed (ports above 1024, no raw sockets). Fargate allows dropping
		// any capability:
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_KernelCapabilities.html
		// "add" is sent empty because ECS stores and returns it so
		// ({"add":[],"drop":["ALL"]}) and the provider's comparison does
		// not treat a missing list as empty: without it every `up` would
		// register a new revision and roll both services (see
		// TestContainerDefinitionsAsECSReturnsThem in internal/program).
		"user": "65532:65532",
		"linuxParameters": map[string]any{
			"capabilities": map[string]any{"add": []string{}, "drop": []string{"ALL"}},
		},
		// The port mapping's name is what Service Connect's portName refers
		// to; appProtocol http lets the proxy apply HTTP timeouts and metrics:
		// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
		"portMappings": []map[string]any{{
			"name":          a.Container,
			"containerPort": a.Port,
			"hostPort":      a.Port, // awsvpc: must equal containerPort
			"protocol":      "tcp",
			"appProtocol":   "http",
		}},
		"environment": envList,
		"logConfiguration": map[string]any{
			"logDriver": "awslogs",
			"options": map[string]string{
				"awslogs-group":         logGroup,
				"awslogs-region":        a.Region,
				"awslogs-stream-prefix": a.Container,
			},
		},
		"healthCheck": map[string]any{
			"command":     []string{"CMD", "/" + a.Container, "-healthcheck"},
			"interval":    healthInterval,
			"timeout":     healthTimeout,
			"retries":     healthRetries,
			"startPeriod": healthStartPeriod,
		},
		"stopTimeout": StopTimeoutSeconds,
	}}
	b, err := json.Marshal(def)
	if err != nil {
		return "", fmt.Errorf("marshal container definitions of %s: %w", a.Container, err)
	}
	return string(b), nil
}

// Rollout failure detection. The provider bridged by pulumi-aws v6.83
// (terraform-provider-aws v5) waits for steady state by polling
// DescribeServices until the service has exactly one deployment whose
// running count equals the desired count (statusServiceWaitForStable in
// internal/service/ecs/service.go). With the circuit breaker's rollback,
// ECS replaces a failed deployment with one of the previous task
// definition, which then satisfies that test: `pulumi up` succeeds while
// the old image runs (terraform-provider-aws issues 19519 and 20858). So
// the breaker stops a failed deployment without rolling back: the failed
// PRIMARY deployment stays beside the old ACTIVE one (or, on a first
// deploy, runs no task), the waiter never sees one healthy deployment, and
// the update fails when rolloutTimeout runs out instead of the provider's
// default 20 minutes. The old tasks keep serving meanwhile (minimum healthy
// 100 %), and the next `pulumi up` with a fixed image starts a new
// deployment. (Provider versions that read the service deployment's own
// status fail even sooner, as soon as the breaker trips.)
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
const (
	circuitBreakerRollback = false
	// rolloutTimeout bounds create and update of an ECS service. The
	// breaker fails a deployment after max(3, desired/2) failed tasks
	// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html),
	// each a minute or two: start, health check start period and retries.
	rolloutTimeout = "15m"
)

// NewFargateService creates the service and everything it owns: its log
// group, execution role, task definition, ECS service and autoscaling.
func NewFargateService(ctx *pulumi.Context, name string, args *FargateServiceArgs, opts ...pulumi.ResourceOption) (*FargateService, error) {
	if args.MaxCount < args.DesiredCount {
		return nil, fmt.Errorf("service %s: max count %d < desired count %d", name, args.MaxCount, args.DesiredCount)
	}
	if args.CPUArch != "ARM64" && args.CPUArch != "X86_64" {
		return nil, fmt.Errorf("service %s: cpu architecture %q", name, args.CPUArch)
	}
	s := &FargateService{}
	if err := ctx.RegisterComponentResource("imagelabel:service:FargateService", name, s, opts...); err != nil {
		return nil, fmt.Errorf("register service %s: %w", name, err)
	}
	parent := pulumi.Parent(s)

	// The log group's name is fixed (the stack's outputs and docs name it),
	// so a replacement must delete the old group first.
	logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/imagelabel/%s/%s", ctx.Stack(), name),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent, pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return nil, fmt.Errorf("log group %s: %w", name, err)
	}
	execRole, execPolicy, err := newExecutionRole(ctx, name, args, logs, parent)
	if err != nil {
		return nil, err
	}
	td, err := newTaskDefinition(ctx, name, args, logs, execRole, execPolicy, parent)
	if err != nil {
		return nil, err
	}
	svc, err := newECSService(ctx, name, args, td, logs, parent)
	if err != nil {
		return nil, err
	}
	if args.MaxCount > args.DesiredCount {
		if err := newAutoscaling(ctx, name, args, svc, parent); err != nil {
			return nil, err
		}
	}

	s.service = svc
	s.ServiceName = svc.Name
	s.ServiceArn = svc.ID().ToStringOutput()
	s.TaskDefinitionArn = td.Arn
	s.LogGroupName = logs.Name
	s.ExecutionRoleArn = execRole.Arn
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{
		"serviceName": s.ServiceName, "serviceArn": s.ServiceArn,
		"taskDefinitionArn": s.TaskDefinitionArn, "logGroupName": s.LogGroupName,
		"executionRoleArn": s.ExecutionRoleArn,
	}); err != nil {
		return nil, fmt.Errorf("outputs of service %s: %w", name, err)
	}
	return s, nil
}

// newExecutionRole creates the role ECS uses to start the task: pull the
// service's image, write its log group, nothing else.
func newExecutionRole(ctx *pulumi.Context, name string, args *FargateServiceArgs, logs *cloudwatch.LogGroup, parent pulumi.ResourceOption) (*iam.Role, *iam.RolePolicy, error) {
	trust, err := ecsTasksTrust(args.AccountID, args.Region, false)
	if err != nil {
		return nil, nil, err
	}
	role, err := iam.NewRole(ctx, name+"-exec", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.String("ECS execution role of " + name + ": pull its image, write its logs"),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("execution role %s: %w", name, err)
	}
	policy, err := iam.NewRolePolicy(ctx, name+"-exec", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: executionPolicy(args.RepositoryArn, logs.Arn),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("execution role policy %s: %w", name, err)
	}
	return role, policy, nil
}

// familyName is the task definition family: per stack, since families are
// per account and region. Families allow letters, digits, '-' and '_'
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html),
// so a '.' of a stack name becomes '-'.
func familyName(stack, name string) string {
	return "imagelabel-" + strings.ReplaceAll(stack, ".", "-") + "-" + name
}

// newTaskDefinition renders the container definition once the image
// digest, log group and environment are known, and registers it.
func newTaskDefinition(ctx *pulumi.Context, name string, args *FargateServiceArgs, logs *cloudwatch.LogGroup, execRole *iam.Role, execPolicy *iam.RolePolicy, parent pulumi.ResourceOption) (*ecs.TaskDefinition, error) {
	envKeys := make([]string, 0, len(args.Env))
	for k := range args.Env {
		envKeys = append(envKeys, k)
	}
	sort.Strings(envKeys)
	envInputs := make([]any, 0, len(args.Env)+2)
	envInputs = append(envInputs, args.Image, logs.Name)
	for _, k := range envKeys {
		envInputs = append(envInputs, args.Env[k])
	}
	defs := pulumi.All(envInputs...).ApplyT(func(v []any) (string, error) {
		env := map[string]string{}
		for i, k := range envKeys {
			env[k] = v[2+i].(string)
		}
		return containerDefinitions(args, v[0].(string), v[1].(string), env)
	}).(pulumi.StringOutput)

	td, err := ecs.NewTaskDefinition(ctx, name, &ecs.TaskDefinitionArgs{
		Family:                  pulumi.String(familyName(ctx.Stack(), name)),
		RequiresCompatibilities: pulumi.StringArray{pulumi.String("FARGATE")},
		NetworkMode:             pulumi.String("awsvpc"),
		Cpu:                     pulumi.String(strconv.Itoa(args.CPU)),
		Memory:                  pulumi.String(strconv.Itoa(args.Memory)),
		RuntimePlatform: &ecs.TaskDefinitionRuntimePlatformArgs{
			OperatingSystemFamily: pulumi.String("LINUX"),
			CpuArchitecture:       pulumi.String(args.CPUArch),
		},
		ExecutionRoleArn:     execRole.Arn,
		TaskRoleArn:          args.TaskRoleArn,
		ContainerDefinitions: defs,
	}, parent, pulumi.DependsOn([]pulumi.Resource{execPolicy}))
	if err != nil {
		return nil, fmt.Errorf("task definition %s: %w", name, err)
	}
	return td, nil
}

// serviceConnect is the Service Connect configuration: every service is a
// client of the namespace; a Server also publishes its port. The proxy
// logs to the service's log group under its own stream prefix.
func serviceConnect(name string, args *FargateServiceArgs, logs *cloudwatch.LogGroup) *ecs.ServiceServiceConnectConfigurationArgs {
	sc := &ecs.ServiceServiceConnectConfigurationArgs{
		Enabled:   pulumi.Bool(true),
		Namespace: args.NamespaceArn,
		LogConfiguration: &ecs.ServiceServiceConnectConfigurationLogConfigurationArgs{
			LogDriver: pulumi.String("awslogs"),
			Options: pulumi.StringMap{
				"awslogs-group":         logs.Name,
				"awslogs-region":        pulumi.String(args.Region),
				"awslogs-stream-prefix": pulumi.String(name + "-proxy"),
			},
		},
	}
	if srv := args.Server; srv != nil {
		sc.Services = ecs.ServiceServiceConnectConfigurationServiceArray{ecs.ServiceServiceConnectConfigurationServiceArgs{
			PortName:      pulumi.String(args.Container),
			DiscoveryName: pulumi.String(srv.DiscoveryName),
			ClientAlias: ecs.ServiceServiceConnectConfigurationServiceClientAliasArray{ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs{
				DnsName: pulumi.String(srv.DNSName),
				Port:    pulumi.Int(srv.Port),
			}},
			Timeout: &ecs.ServiceServiceConnectConfigurationServiceTimeoutArgs{
				PerRequestTimeoutSeconds: pulumi.Int(srv.PerRequestTimeoutSeconds),
				IdleTimeoutSeconds:       pulumi.Int(srv.IdleTimeoutSeconds),
			},
		}}
	}
	return sc
}

// newECSService creates the ECS service, waiting for its rollout (see
// rolloutTimeout) and saying where to look when it fails.
func newECSService(ctx *pulumi.Context, name string, args *FargateServiceArgs, td *ecs.TaskDefinition, logs *cloudwatch.LogGroup, parent pulumi.ResourceOption) (*ecs.Service, error) {
	svcArgs := &ecs.ServiceArgs{
		Cluster:        args.ClusterArn,
		TaskDefinition: td.Arn,
		DesiredCount:   pulumi.Int(args.DesiredCount),
		NetworkConfiguration: &ecs.ServiceNetworkConfigurationArgs{
			Subnets:        args.SubnetIDs,
			SecurityGroups: args.SecurityGroupIDs,
			AssignPublicIp: pulumi.Bool(false),
		},
		// Keep full capacity during a deployment; stop one whose tasks
		// never become healthy (see circuitBreakerRollback).
		DeploymentMinimumHealthyPercent: pulumi.Int(100),
		DeploymentMaximumPercent:        pulumi.Int(200),
		DeploymentCircuitBreaker: &ecs.ServiceDeploymentCircuitBreakerArgs{
			Enable:   pulumi.Bool(true),
			Rollback: pulumi.Bool(circuitBreakerRollback),
		},
		WaitForSteadyState:          pulumi.Bool(true),
		ServiceConnectConfiguration: serviceConnect(name, args, logs),
		EnableEcsManagedTags:        pulumi.Bool(true),
		PropagateTags:               pulumi.String("SERVICE"),
	}
	// Always a capacity provider strategy, never the FARGATE launch type:
	// switching between the two replaces the service (see
	// CapacityProviders), so Spot can be turned on and off in place.
	providers := args.CapacityProviders
	if len(providers) == 0 {
		providers = OnDemandStrategy()
	}
	var strategy ecs.ServiceCapacityProviderStrategyArray
	for _, p := range providers {
		strategy = append(strategy, ecs.ServiceCapacityProviderStrategyArgs{
			CapacityProvider: pulumi.String(p.Provider), Base: pulumi.Int(p.Base), Weight: pulumi.Int(p.Weight),
		})
	}
	svcArgs.CapacityProviderStrategies = strategy
	// ECS refuses a change of strategy on an existing service unless it
	// forces a new deployment ("When switching from launch type to
	// capacity provider strategy on an existing service, or making a
	// change to a capacity provider strategy ... you must force a new
	// deployment"): https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
	// The provider (terraform-provider-aws v5, internal/service/ecs/
	// service.go) reads the flag from the new configuration: when false,
	// capacityProviderStrategyCustomizeDiff makes any strategy change
	// replace the service; when true, resourceServiceUpdate sends it in
	// every UpdateService call. The program sees only the new config, not
	// the deployed strategy, so it cannot set the flag for just the `up`
	// that switches spot: it is set always, and every service update is a
	// new deployment. In this program only a desiredCount change (without
	// autoscaling) rolls tasks because of it; every other service change
	// starts a deployment anyway. docs/deploy.md, "Changing a live stack".
	svcArgs.ForceNewDeployment = pulumi.Bool(true)
	if r := args.Registry; r != nil {
		// awsvpc + SRV records: ECS needs containerName+containerPort or
		// port (not both); naming the container ties the record to its port
		// mapping: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRegistry.html
		svcArgs.ServiceRegistries = &ecs.ServiceServiceRegistriesArgs{
			RegistryArn:   r.RegistryArn,
			ContainerName: pulumi.String(args.Container),
			ContainerPort: pulumi.Int(args.Port),
		}
	}
	svcOpts := []pulumi.ResourceOption{parent, pulumi.DependsOn(args.DependsOn),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: rolloutTimeout, Update: rolloutTimeout})}
	if args.MaxCount > args.DesiredCount {
		// Application Auto Scaling owns the task count once it is enabled.
		svcOpts = append(svcOpts, pulumi.IgnoreChanges([]string{"desiredCount"}))
	}
	if args.Server != nil {
		// A Service Connect discovery name must be unique in its namespace:
		// a replacement created beside the old service would be refused.
		svcOpts = append(svcOpts, pulumi.DeleteBeforeReplace(true))
	}
	svc, err := ecs.NewService(ctx, name, svcArgs, svcOpts...)
	if err != nil {
		return nil, fmt.Errorf("ecs service %s: %w", name, err)
	}
	// Shown with the service's diagnostics, which is where a failed or
	// timed-out rollout is reported.
	if err := ctx.Log.Info(rolloutHint(ctx.Stack(), name), &pulumi.LogArgs{Resource: svc}); err != nil {
		return nil, fmt.Errorf("rollout hint of %s: %w", name, err)
	}
	return svc, nil
}

// rolloutHint tells where to look when the rollout of service name fails.
func rolloutHint(stack, name string) string {
	return fmt.Sprintf("if this rollout fails or times out (%s), its tasks did not become healthy: "+
		"see the service's events (aws ecs describe-services --cluster $(pulumi stack output clusterName) "+
		"--services <the service name in the error> --query 'services[0].events[:10]') "+
		"and the log group /imagelabel/%s/%s (aws logs tail /imagelabel/%s/%s --since 30m)",
		rolloutTimeout, stack, name, stack, name)
}

// newAutoscaling adds target tracking on average CPU between DesiredCount
// and MaxCount:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html
func newAutoscaling(ctx *pulumi.Context, name string, args *FargateServiceArgs, svc *ecs.Service, parent pulumi.ResourceOption) error {
	target, err := appautoscaling.NewTarget(ctx, name, &appautoscaling.TargetArgs{
		ServiceNamespace:  pulumi.String("ecs"),
		ScalableDimension: pulumi.String("ecs:service:DesiredCount"),
		ResourceId:        pulumi.Sprintf("service/%s/%s", args.ClusterName, svc.Name),
		MinCapacity:       pulumi.Int(args.DesiredCount),
		MaxCapacity:       pulumi.Int(args.MaxCount),
	}, parent)
	if err != nil {
		return fmt.Errorf("scaling target %s: %w", name, err)
	}
	if _, err := appautoscaling.NewPolicy(ctx, name+"-cpu", &appautoscaling.PolicyArgs{
		PolicyType:        pulumi.String("TargetTrackingScaling"),
		ServiceNamespace:  target.ServiceNamespace,
		ScalableDimension: target.ScalableDimension,
		ResourceId:        target.ResourceId,
		TargetTrackingScalingPolicyConfiguration: &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs{
			PredefinedMetricSpecification: &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs{
				PredefinedMetricType: pulumi.String("ECSServiceAverageCPUUtilization"),
			},
			TargetValue:      pulumi.Float64(60),
			ScaleOutCooldown: pulumi.Int(60),
			ScaleInCooldown:  pulumi.Int(300),
		},
	}, parent); err != nil {
		return fmt.Errorf("scaling policy %s: %w", name, err)
	}
	return nil
}
