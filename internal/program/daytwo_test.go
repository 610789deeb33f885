package program_test

// What a change of one config key does to a live stack, derived from the
// plan: plan the dev stack, plan it again with the key changed, diff every
// resource's inputs, and classify each change by the provider's
// replace-forcing inputs. docs/deploy.md ("Changing a live stack") states
// the result per key; TestKeyChangeTable keeps it true.

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// replaceForcing lists, per resource type, the inputs whose change makes the
// provider replace the resource (ForceNew in the schema of the Terraform
// resource pulumi-aws v6.83 bridges, terraform-provider-aws v5; file under
// internal/service/), for every type a key change touches. A changed input
// of a type not listed fails the test, so the table grows with the program.
// The CloudFormation equivalents agree (createOnlyProperties in the
// resource schemas, e.g. AWS::ECS::TaskDefinition ContainerDefinitions,
// AWS::ApiGatewayV2::VpcLink SubnetIds).
var replaceForcing = map[string][]string{
	// ecs/task_definition.go: container_definitions, cpu, memory,
	// runtime_platform, family, execution_role_arn, task_role_arn,
	// network_mode, requires_compatibilities are all ForceNew (read).
	typTaskDef: {"containerDefinitions", "cpu", "memory", "runtimePlatform", "family", "executionRoleArn",
		"taskRoleArn", "networkMode", "requiresCompatibilities"},
	// ecs/service.go: name, cluster, launch_type, iam_role,
	// scheduling_strategy are ForceNew (read). capacity_provider_strategy
	// is forced new by capacityProviderStrategyCustomizeDiff unless
	// force_new_deployment is true, which the services always set
	// (infra/service.go), so it is not listed.
	typService: {"name", "cluster", "launchType", "iamRole", "schedulingStrategy"},
	// apigatewayv2/vpc_link.go: subnet_ids and security_group_ids (read).
	typVpcLink: {"subnetIds", "securityGroupIds"},
	// servicediscovery/http_namespace.go: name, description (read);
	// private_dns_namespace.go: name, vpc, description; service.go:
	// name, namespace_id, dns_config.namespace_id.
	typHTTPNS:    {"name", "description"},
	typDNSNS:     {"name", "vpc", "description"},
	typSDService: {"name", "namespaceId", "dnsConfig.namespaceId", "dnsConfig.routingPolicy"},
	// apigatewayv2/integration.go: api_id, integration_type;
	// connection_id and integration_uri update in place.
	typIntegration: {"apiId", "integrationType"},
	// apigatewayv2/stage.go: api_id, name.
	typStage: {"apiId", "name"},
	// ec2/vpc_endpoint.go: vpc_id, service_name, vpc_endpoint_type.
	typEndpoint: {"vpcId", "serviceName", "vpcEndpointType"},
	// ec2/vpc_route_table.go: vpc_id.
	typRouteTable: {"vpcId"},
	// ecs/cluster.go: name.
	typCluster: {"name"},
	// logs/group.go: name, name_prefix.
	typLogGroup: {"name", "namePrefix"},
	// s3/bucket_lifecycle_configuration.go: bucket, expected_bucket_owner.
	typLifecycle: {"bucket", "expectedBucketOwner"},
	// budgets/budget.go: name, name_prefix, account_id.
	"aws:budgets/budget:Budget": {"name", "namePrefix", "accountId"},
	// apigatewayv2/route.go: api_id only; authorization_type and route_key
	// update in place (UpdateRoute).
	typRoute: {"apiId"},
	// apigatewayv2/domain_name.go: domain_name only;
	// domain_name_configuration (the certificate, TLS policy) updates in
	// place (UpdateDomainName).
	"aws:apigatewayv2/domainName:DomainName": {"domainName"},
	// apigatewayv2/api.go: protocol_type only; disable_execute_api_endpoint,
	// name and the rest update in place (UpdateApi).
	typAPI: {"protocolType"},
	// pulumi-docker's Image is not a bridged Terraform resource: a changed
	// build or name rebuilds and pushes; the new digest reaches ECS only
	// through containerDefinitions, which the task definition's row covers.
	typImage: {},
}

// deploymentInputs are the ECS service inputs whose change starts a new
// deployment by itself (they are part of a deployment, not of the service:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html,
// and UpdateService: "When you update any of these parameters, Amazon ECS
// starts new tasks with the new configuration"). Any other service update
// rolls the tasks only when forceNewDeployment is set.
var deploymentInputs = []string{"taskDefinition", "networkConfiguration", "serviceConnectConfiguration",
	"capacityProviderStrategies", "platformVersion", "loadBalancers", "serviceRegistries", "volumeConfiguration"}

// keyChange is one row of the derivation: the key, the config it is
// changed from (over Pulumi.dev.yaml) and the change.
type keyChange struct {
	key       string
	from, to  []string
	tasksRoll bool   // derived: an ECS service is updated or replaced
	planShows string // derived: creates, replaces, updates in place, deletes
	resources []string
}

var keyChanges = []keyChange{
	{key: "azCount", to: []string{"azCount=2"}},
	{key: "cpuArchitecture", to: []string{"cpuArchitecture=x86_64"}},
	{key: "uploadCpu", to: []string{"uploadCpu=512", "uploadMemory=1024"}},
	{key: "uploadMemory", to: []string{"uploadMemory=1024"}},
	{key: "rekogCpu", to: []string{"rekogCpu=512", "rekogMemory=1024"}},
	{key: "rekogMemory", to: []string{"rekogMemory=1024"}},
	{key: "desiredCount", to: []string{"desiredCount=2", "maxCount=2"}},
	{key: "maxCount", to: []string{"maxCount=3"}},
	{key: "natMode", to: []string{"natMode=instance"}},
	{key: "logRetentionDays", to: []string{"logRetentionDays=14"}},
	{key: "apiThrottleRate", to: []string{"apiThrottleRate=60"}},
	{key: "apiThrottleBurst", to: []string{"apiThrottleBurst=200"}},
	{key: "maxUploadBytes", to: []string{"maxUploadBytes=2048"}},
	{key: "namespace", to: []string{"namespace=other.internal"}},
	{key: "imageRetentionDays", to: []string{"imageRetentionDays=7"}},
	{key: "containerInsights", to: []string{"containerInsights=true"}},
	{key: "spot", to: []string{"spot=true"}},
	{key: "spotOnDemandBase", from: []string{"spot=true"}, to: []string{"spot=true", "spotOnDemandBase=1"}},
	{key: "monthlyBudgetUSD", from: []string{"monthlyBudgetUSD=20", "budgetEmail=ops@example.com"},
		to: []string{"monthlyBudgetUSD=30", "budgetEmail=ops@example.com"}},
	{key: "budgetEmail", from: []string{"monthlyBudgetUSD=20", "budgetEmail=ops@example.com"},
		to: []string{"monthlyBudgetUSD=20", "budgetEmail=team@example.com"}},
	{key: "apiAuth", to: []string{"apiAuth=iam"}},
	{key: "domainName", to: []string{"domainName=api.example.com", "domainZone=example.com"}},
	{key: "domainZone", from: []string{"domainName=api.example.com", "domainCertificateArn=" + testCertARN},
		to: []string{"domainName=api.example.com", "domainZone=example.com"}},
	{key: "domainCertificateArn", to: []string{"domainName=api.example.com", "domainCertificateArn=" + testCertARN}},
	{key: "disableDefaultEndpoint", from: []string{"domainName=api.example.com", "domainZone=example.com"},
		to: []string{"domainName=api.example.com", "domainZone=example.com", "disableDefaultEndpoint=true"}},
}

// testCertARN is a certificate in the dev stack's region, in the mock account.
var testCertARN = "arn:aws:acm:us-east-1:" + plan.MockAccount + ":certificate/0f9c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b"

// devModel plans the dev stack file with short-key overrides.
func devModel(t *testing.T, overrides []string) *plan.Result {
	t.Helper()
	cfg, err := plan.ReadStackConfig(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range overrides {
		k, v, _ := strings.Cut(kv, "=")
		cfg[stackconfig.Namespace+":"+k] = v
	}
	p, err := plan.Model("dev", cfg)
	if err != nil {
		t.Fatalf("plan.Model(dev %v): %v", overrides, err)
	}
	return p
}

// action is what `pulumi up` does to one resource.
type action int

const (
	unchanged action = iota
	update
	replace
)

// diffPlans classifies every custom resource of old and new: created,
// deleted, replaced, updated in place. A replaced resource gets a new id
// and ARN, so every input elsewhere that holds them changes too (a new task
// definition revision is a new taskDefinition for its service): that is
// followed until nothing more changes.
func diffPlans(t *testing.T, old, cur *plan.Result) (acts map[string]action, changed map[string]map[string]bool, created, deleted []string, byURN map[string]*plan.Resource) {
	t.Helper()
	olds := map[string]*plan.Resource{}
	for _, r := range old.Resources {
		if r.Custom {
			olds[r.URN] = r
		}
	}
	byURN = map[string]*plan.Resource{}
	changed = map[string]map[string]bool{} // URN -> changed inputs
	for _, r := range cur.Resources {
		if !r.Custom {
			continue
		}
		byURN[r.URN] = r
		o, ok := olds[r.URN]
		if !ok {
			created = append(created, r.URN)
			continue
		}
		changed[r.URN] = map[string]bool{}
		for _, k := range slices.Collect(maps.Keys(mergeInputs(o.Inputs, r.Inputs))) {
			if !reflect.DeepEqual(o.Inputs[k], r.Inputs[k]) && !slices.Contains(r.IgnoreChanges, k) {
				markChanged(changed[r.URN], k, o.Inputs[k], r.Inputs[k])
			}
		}
	}
	for u := range olds {
		if _, ok := byURN[u]; !ok {
			deleted = append(deleted, u)
		}
	}
	acts = map[string]action{}
	for again := true; again; {
		again = false
		for u, ins := range changed {
			a := classify(t, byURN[u].Type, ins)
			if a > acts[u] {
				acts[u] = a
				again = true
			}
			if a == replace {
				again = propagate(olds[u], olds, changed) || again
			}
		}
	}
	slices.Sort(created)
	slices.Sort(deleted)
	return acts, changed, created, deleted, byURN
}

// mergeInputs returns the union of two input maps (values unused).
func mergeInputs(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// markChanged records input k as changed and, for an object, each of its
// fields that changed as k.field (ForceNew is sometimes on a nested field,
// such as a Cloud Map service's dns_config.namespace_id).
func markChanged(set map[string]bool, k string, old, cur any) {
	set[k] = true
	om, ok1 := old.(map[string]any)
	cm, ok2 := cur.(map[string]any)
	if !ok1 || !ok2 {
		return
	}
	for sub := range mergeInputs(om, cm) {
		if !reflect.DeepEqual(om[sub], cm[sub]) {
			set[k+"."+sub] = true
		}
	}
}

// classify decides update or replace from the changed inputs of a type.
func classify(t *testing.T, typ string, changed map[string]bool) action {
	t.Helper()
	if len(changed) == 0 {
		return unchanged
	}
	forcing, ok := replaceForcing[typ]
	if !ok {
		t.Fatalf("inputs %v of %s change, and replaceForcing does not list the type: add its ForceNew inputs from the provider", slices.Sorted(maps.Keys(changed)), typ)
	}
	for in := range changed {
		if slices.Contains(forcing, in) {
			return replace
		}
	}
	return update
}

// propagate marks as changed every input, of any other resource, holding
// the replaced resource's id or ARN; it reports whether it marked any.
func propagate(r *plan.Resource, olds map[string]*plan.Resource, changed map[string]map[string]bool) bool {
	id, _ := r.Outputs["id"].(string)
	arn, _ := r.Outputs["arn"].(string)
	marked := false
	for u, o := range olds {
		if u == r.URN || changed[u] == nil {
			continue
		}
		for k, v := range o.Inputs {
			if holds(v, id, arn) && !changed[u][k] {
				changed[u][k] = true
				marked = true
				if m, ok := v.(map[string]any); ok {
					for sub, sv := range m {
						if holds(sv, id, arn) {
							changed[u][k+"."+sub] = true
						}
					}
				}
			}
		}
	}
	return marked
}

// holds reports whether an input value is the id, or contains the ARN (JSON
// documents such as policies embed ARNs).
func holds(v any, id, arn string) bool {
	b, _ := json.Marshal(v)
	s := string(b)
	return (id != "" && strings.Contains(s, `"`+id+`"`)) || (arn != "" && strings.Contains(s, arn))
}

// derive fills the derived fields of kc.
func derive(t *testing.T, kc *keyChange) {
	t.Helper()
	acts, changedIn, created, deleted, byURN := diffPlans(t, devModel(t, kc.from), devModel(t, kc.to))
	var shows []string
	has := func(a action) bool { return slices.Contains(slices.Collect(maps.Values(acts)), a) }
	if len(created) > 0 {
		shows = append(shows, "creates")
	}
	if has(replace) {
		shows = append(shows, "replaces")
	}
	if has(update) {
		shows = append(shows, "updates in place")
	}
	if len(deleted) > 0 {
		shows = append(shows, "deletes")
	}
	kc.planShows = strings.Join(shows, ", ")
	for u, a := range acts {
		r := byURN[u]
		if r.Type == typService && rolls(r, a, changedIn[u]) {
			kc.tasksRoll = true
		}
		if a == replace {
			kc.resources = append(kc.resources, "replace "+r.Type+" "+r.Name)
		}
	}
	slices.Sort(kc.resources)
}

// rolls reports whether the change a to ECS service r, with these inputs
// changed, replaces its tasks: a new service has new tasks; an update does
// when it changes a deployment input or forces a new deployment.
func rolls(r *plan.Resource, a action, changed map[string]bool) bool {
	switch {
	case a == replace:
		return true
	case a == update && r.Inputs["forceNewDeployment"] == true:
		return true
	case a == update:
		return slices.ContainsFunc(deploymentInputs, func(in string) bool { return changed[in] })
	}
	return false
}

// keyChangeRows parses the table of docs/deploy.md's "Changing a live
// stack" section: key -> the cells after it.
func keyChangeRows(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Changing a live stack\n")
	if !ok {
		t.Fatal(`docs/deploy.md has no "## Changing a live stack" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	rows := map[string][]string{}
	for _, line := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[0], "`")] = cells[1:]
	}
	return rows
}

// TestKeyChangeTable: docs/deploy.md states, for every config key, what the
// plan shows when the key changes (creates, replaces, updates in place,
// deletes) and whether the services' tasks roll; both are derived here from
// the plan and the provider's replace-forcing inputs.
func TestKeyChangeTable(t *testing.T) {
	rows := keyChangeRows(t)
	covered := map[string]bool{}
	for i := range keyChanges {
		kc := &keyChanges[i]
		covered[kc.key] = true
		derive(t, kc)
		t.Logf("%s: %s; tasks roll %s; %v", kc.key, kc.planShows, yesNo(kc.tasksRoll), kc.resources)
		row, ok := rows[kc.key]
		if !ok || len(row) < 3 {
			t.Errorf("docs/deploy.md: no row for %s; want | `%s` | %s | %s | <outage> | <what happens> |", kc.key, kc.key, kc.planShows, yesNo(kc.tasksRoll))
			continue
		}
		if row[0] != kc.planShows {
			t.Errorf("docs/deploy.md %s: plan shows %q; the plan derives %q (%v)", kc.key, row[0], kc.planShows, kc.resources)
		}
		if row[1] != yesNo(kc.tasksRoll) {
			t.Errorf("docs/deploy.md %s: tasks roll %q; the plan derives %q", kc.key, row[1], yesNo(kc.tasksRoll))
		}
		if strings.Contains(kc.planShows, "replaces") && !strings.Contains(row[3], "replace") {
			t.Errorf("docs/deploy.md %s: the plan replaces %v; the row should say what is replaced", kc.key, kc.resources)
		}
	}
	for _, k := range stackconfig.Keys {
		if !covered[k.Name] {
			t.Errorf("key %s has no keyChanges entry", k.Name)
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
