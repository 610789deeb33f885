package program_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"imagelabel/internal/plan"
	"imagelabel/internal/program"
)

// TestZonesChosenByID: subnets (and so the VPC link) go to zones by zone
// ID, only to IDs where API Gateway has VPC links. The mock account maps
// us-east-1b to use1-az3, which has none, so choosing by name, or taking
// the first names, would put a subnet there.
func TestZonesChosenByID(t *testing.T) {
	p := model(t, "azCount=2")
	var got []string
	for _, s := range p.Find(typSubnet) {
		if strings.Contains(s.Name, "private") {
			id, _ := s.Inputs["availabilityZoneId"].(string)
			got = append(got, id)
		}
		if _, ok := s.Inputs["availabilityZone"]; ok {
			t.Errorf("subnet %s sets availabilityZone %v; want only availabilityZoneId", s.Name, s.Inputs["availabilityZone"])
		}
	}
	sort.Strings(got)
	// Mock order: a=use1-az4, b=use1-az3 (no VPC links), c=use1-az6.
	if want := []string{"use1-az4", "use1-az6"}; !slices.Equal(got, want) {
		t.Errorf("azCount=2: private subnets in %v; want %v", got, want)
	}
	link := strs(t, one(t, p, typVpcLink, "api").Inputs["subnetIds"])
	for _, i := range []string{"0", "1"} {
		id := idOf(one(t, p, typSubnet, "net-private-"+i))
		if !slices.Contains(link, id) {
			t.Errorf("VPC link subnets %v lack private subnet %s", link, id)
		}
	}
}

// TestAZCountRefused: us-east-1 has six zones but VPC links in five; six
// are refused at preview, naming the key and the zones that would work.
func TestAZCountRefused(t *testing.T) {
	cfg := baseConfig()
	cfg["imagelabel:azCount"] = "6"
	_, err := plan.Model("test", cfg)
	if err == nil {
		t.Fatalf("azCount=6 in us-east-1: no error; want a refusal (use1-az3 has no VPC links)")
	}
	for _, want := range []string{"imagelabel:azCount", "use1-az4 (us-east-1a)", "use1-az5", "at most 5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("azCount=6: error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "use1-az3") {
		t.Errorf("azCount=6: error %q offers use1-az3, which has no VPC links", err)
	}
	// us-west-1: VPC links (and Fargate) only in usw1-az1 and usw1-az3.
	cfg = map[string]string{"aws:region": "us-west-1", "imagelabel:azCount": "3"}
	if _, err := plan.Model("test", cfg); err == nil || !strings.Contains(err.Error(), "imagelabel:azCount") {
		t.Errorf("azCount=3 in us-west-1 = %v; want an azCount refusal", err)
	}
	cfg["imagelabel:azCount"] = "2"
	if _, err := plan.Model("test", cfg); err != nil {
		t.Errorf("azCount=2 in us-west-1 = %v; want a plan", err)
	}
}

// TestRegionRefused: a region without Rekognition, VPC links or Fargate is
// refused at preview with the key and the supported regions.
func TestRegionRefused(t *testing.T) {
	for _, region := range []string{"eu-west-1", "ap-northeast-1"} {
		if _, err := plan.Model("test", map[string]string{"aws:region": region}); err != nil {
			t.Errorf("region %s: %v; want a plan", region, err)
		}
	}
	// A name in none of AWS's lists is an unknown region, not one lacking
	// the three services.
	if _, err := plan.Model("test", map[string]string{"aws:region": "mars-east-1"}); err == nil ||
		!strings.Contains(err.Error(), `aws:region: unknown region "mars-east-1"; supported regions: `) {
		t.Errorf("region mars-east-1: error %v; want an unknown region with the supported ones", err)
	}
	// af-south-1 and eu-north-1 have no Rekognition endpoint.
	for _, region := range []string{"af-south-1", "eu-north-1"} {
		_, err := plan.Model("test", map[string]string{"aws:region": region})
		if err == nil {
			t.Errorf("region %s: no error; want a refusal", region)
			continue
		}
		for _, want := range []string{"aws:region", region, "Rekognition", "us-east-1, us-east-2"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("region %s: error %q lacks %q", region, err, want)
			}
		}
	}
}

// explicitNames returns every explicit name the plan sends to AWS, keyed
// by type, resource and input. Names Pulumi generates (logical name plus a
// random suffix) are not inputs; "bucket" names a bucket only on the
// bucket itself (elsewhere it refers to one).
func explicitNames(p *plan.Result) map[string]string {
	out := map[string]string{}
	for _, r := range p.Resources {
		if !r.Custom {
			continue
		}
		keys := []string{"name", "namePrefix", "family"}
		if r.Type == typBucket {
			keys = append(keys, "bucket", "bucketPrefix")
		}
		for _, k := range keys {
			if v, ok := r.Inputs[k].(string); ok {
				out[r.Type+" "+r.Name+" "+k] = v
			}
		}
	}
	return out
}

// scopedNames are explicit names unique only inside a parent that is
// itself per stack, so two stacks may share them.
var scopedNames = map[string]string{
	typStage + " api name":     "the $default stage of the stack's own API",
	typSDService + " api name": "a Cloud Map service inside the stack's own namespace",
	// Security group names are unique per VPC (the stack's own), and a
	// prefix gets a unique suffix from the provider.
	typSG + " sg-vpclink namePrefix": "a prefix of a name unique per VPC",
	typSG + " sg-upload namePrefix":  "a prefix of a name unique per VPC",
	typSG + " sg-rekog namePrefix":   "a prefix of a name unique per VPC",
}

// TestStacksShareNoNames plans two stacks with the committed dev config
// (in every NAT mode, and with the budget on) and finds no explicit name in
// common: every name AWS makes unique per account and region carries the
// stack (NamespaceAlreadyExists, ResourceAlreadyExistsException,
// DuplicateRecordException otherwise).
func TestStacksShareNoNames(t *testing.T) {
	for _, set := range []map[string]string{
		nil,
		{"natMode": "instance"},
		{"natMode": "endpoints", "azCount": "2"},
		{"monthlyBudgetUSD": "25", "budgetEmail": "ops@example.com"},
	} {
		t.Run(fmt.Sprint(set), func(t *testing.T) {
			devNames := explicitNames(planStackWith(t, "dev", set))
			prodNames := explicitNames(planStackWith(t, "prod", set))
			checkNoSharedNames(t, devNames, prodNames, set == nil)
		})
	}
}

// planStackWith plans stack with the dev config and set (short keys). The
// stack tag of aws:defaultTags is the stack's own, as the budget requires.
func planStackWith(t *testing.T, stack string, set map[string]string) *plan.Result {
	t.Helper()
	cfg, err := plan.ReadStackConfig(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		cfg[plan.Project+":"+k] = v
	}
	cfg["aws:defaultTags"] = fmt.Sprintf(`{"tags":{%q:%q}}`, program.StackTagKey, stack)
	p, err := plan.Model(stack, cfg)
	if err != nil {
		t.Fatalf("plan %s with %v: %v", stack, set, err)
	}
	return p
}

// checkNoSharedNames fails on every explicit name outside scopedNames that
// both stacks use; complete also requires every scopedNames entry to exist.
func checkNoSharedNames(t *testing.T, devNames, prodNames map[string]string, complete bool) {
	t.Helper()
	if len(devNames) < 8 {
		t.Fatalf("only %d explicit names found: %v", len(devNames), devNames)
	}
	used := map[string]string{}
	for k, v := range devNames {
		if _, ok := scopedNames[k]; !ok {
			used[v] = k
		}
	}
	for k, v := range prodNames {
		if _, ok := scopedNames[k]; ok {
			continue
		}
		if other, ok := used[v]; ok {
			t.Errorf("dev %s and prod %s are both %q", other, k, v)
		}
	}
	if !complete {
		return
	}
	for k := range scopedNames {
		if _, ok := devNames[k]; !ok {
			t.Errorf("scopedNames lists %q, which the plan no longer has", k)
		}
	}
}

// TestDeleteBeforeReplace: names that cannot exist twice are deleted
// before their replacement is created (Pulumi's default creates first):
// the Cloud Map service upload registers in (ServiceAlreadyExists), rekog's
// ECS service with its Service Connect discovery name (unique in the
// namespace), and the fixed-name log groups of the services and the API.
func TestDeleteBeforeReplace(t *testing.T) {
	p := model(t)
	for _, r := range []*plan.Resource{
		one(t, p, typSDService, "api"),
		one(t, p, typLogGroup, "upload"),
		one(t, p, typLogGroup, "rekog"),
		one(t, p, typLogGroup, "api-access"),
	} {
		if !r.DeleteBeforeReplace {
			t.Errorf("%s %s: deleteBeforeReplace = false", r.Type, r.Name)
		}
	}
	for _, s := range p.Find(typService) {
		publishes := has(s.Inputs, "serviceConnectConfiguration.services")
		if publishes != s.DeleteBeforeReplace {
			t.Errorf("ECS service %s: publishes Service Connect names %v, deleteBeforeReplace %v; want them equal", s.Name, publishes, s.DeleteBeforeReplace)
		}
	}
	if !one(t, p, typService, "rekog").DeleteBeforeReplace {
		t.Errorf("rekog service (discovery name rekog) is not delete-before-replace")
	}
}

// TestRolloutFailsUp: a rollout whose tasks never become healthy must fail
// `pulumi up` within minutes. The bridged provider's steady-state wait
// passes once one deployment runs the desired count, which a circuit
// breaker rollback provides (terraform-provider-aws 19519, 20858), so the
// breaker must not roll back, the wait must be on, and the wait bounded
// below the provider's 20-minute default.
func TestRolloutFailsUp(t *testing.T) {
	p := model(t)
	for _, name := range []string{"upload", "rekog"} {
		s := one(t, p, typService, name)
		if get(t, s.Inputs, "deploymentCircuitBreaker.enable") != true || get(t, s.Inputs, "deploymentCircuitBreaker.rollback") != false {
			t.Errorf("%s circuit breaker = %v; want enabled without rollback", name, s.Inputs["deploymentCircuitBreaker"])
		}
		if s.Inputs["waitForSteadyState"] != true {
			t.Errorf("%s waitForSteadyState = %v", name, s.Inputs["waitForSteadyState"])
		}
		to := s.CustomTimeouts
		if to == nil {
			t.Fatalf("%s: no custom timeouts", name)
		}
		for op, v := range map[string]string{"create": to.Create, "update": to.Update} {
			d, err := time.ParseDuration(v)
			if err != nil || d < 5*time.Minute || d >= 20*time.Minute {
				t.Errorf("%s %s timeout %q: want 5m <= t < 20m (the breaker needs a few failed tasks; 20m is the provider default)", name, op, v)
			}
		}
	}
}

// TestBucketWritesSerialized: no two configuration writes to the bucket
// may run at once (S3's OperationAborted, terraform-provider-aws 7628):
// the public access block, ownership, encryption, lifecycle and policy
// form one chain of dependencies, the access block first.
func TestBucketWritesSerialized(t *testing.T) {
	p := model(t)
	types := []string{typPAB, typOwnership, typSSE, typLifecycle, typBucketPol}
	var writes []*plan.Resource
	for _, r := range p.Resources {
		if slices.Contains(types, r.Type) {
			writes = append(writes, r)
		}
	}
	if len(writes) != len(types) {
		t.Fatalf("%d bucket configuration resources; want %d", len(writes), len(types))
	}
	// dependsOn reports whether a waits, directly or not, for b.
	var dependsOn func(a, b *plan.Resource) bool
	dependsOn = func(a, b *plan.Resource) bool {
		for _, u := range a.DependsOn {
			if u == b.URN {
				return true
			}
			if d := p.ByURN(u); d != nil && dependsOn(d, b) {
				return true
			}
		}
		return false
	}
	for i, a := range writes {
		for _, b := range writes[i+1:] {
			if !dependsOn(a, b) && !dependsOn(b, a) {
				t.Errorf("%s and %s may write the bucket at the same time", a.Type, b.Type)
			}
		}
	}
	pab := one(t, p, typPAB, "images")
	for _, w := range writes {
		if w != pab && !dependsOn(w, pab) {
			t.Errorf("%s does not wait for the public access block", w.Type)
		}
	}
}
