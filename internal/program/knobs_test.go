package program_test

import (
	"reflect"
	"slices"
	"testing"

	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// TestKnobs: each config key changes what it should in the deployment.
func TestKnobs(t *testing.T) {
	base := model(t)

	f := &knobsFixture{base: base}
	t.Run("azCount", func(t *testing.T) { testKnobsAzCount(t, f) })
	t.Run("cpuArchitecture", func(t *testing.T) { testKnobsCpuArchitecture(t, f) })
	t.Run("task sizes", func(t *testing.T) { testKnobsTaskSizes(t, f) })
	t.Run("counts and autoscaling", func(t *testing.T) { testKnobsCountsAndAutoscaling(t, f) })
	t.Run("logRetentionDays", func(t *testing.T) { testKnobsLogRetentionDays(t, f) })
	t.Run("throttling", func(t *testing.T) { testKnobsThrottling(t, f) })
	t.Run("maxUploadBytes", func(t *testing.T) { testKnobsMaxUploadBytes(t, f) })
	t.Run("uploadMemory", func(t *testing.T) { testKnobsUploadMemory(t, f) })
	t.Run("namespace", func(t *testing.T) { testKnobsNamespace(t, f) })
	t.Run("imageRetentionDays", func(t *testing.T) { testKnobsImageRetentionDays(t, f) })
	t.Run("containerInsights", func(t *testing.T) { testKnobsContainerInsights(t, f) })
}

// knobsFixture is what the parts of TestKnobs share.
type knobsFixture struct {
	base *plan.Result
}

// testKnobsAzCount is the "azCount" part of TestKnobs.
func testKnobsAzCount(t *testing.T, f *knobsFixture) {
	base := f.base
	p := model(t, "azCount=3")
	if got := len(p.Find(typSubnet)); got != 6 {
		t.Errorf("azCount=3: %d subnets; want 6", got)
	}
	if got := len(p.Find(typNAT)); got != 1 {
		t.Errorf("azCount=3: %d NAT gateways; want 1 (gateway mode)", got)
	}
	if got := len(strs(t, one(t, p, typEndpoint, "net-s3").Inputs["routeTableIds"])); got != 3 {
		t.Errorf("azCount=3: S3 endpoint on %d route tables; want 3", got)
	}
	azs := map[any]bool{}
	for _, s := range p.Find(typSubnet) {
		azs[s.Inputs["availabilityZoneId"]] = true
	}
	if len(azs) != 3 {
		t.Errorf("azCount=3: subnets in %d zones", len(azs))
	}
	// The mock, like AWS, lists an opted-in Local Zone unless the program
	// asks for standard zones only; it is not a VPC-link zone either.
	for az := range azs {
		if s, _ := az.(string); !slices.Contains(stackconfig.Regions["us-east-1"].VPCLinkZones, s) {
			t.Errorf("azCount=3: subnet in %v; want only standard zones with VPC links", az)
		}
	}
	if got := len(strs(t, one(t, p, typVpcLink, "api").Inputs["subnetIds"])); got != 3 {
		t.Errorf("azCount=3: VPC link in %d subnets", got)
	}
	if got := len(strs(t, get(t, one(t, p, typService, "upload").Inputs, "networkConfiguration.subnets"))); got != 3 {
		t.Errorf("azCount=3: upload in %d subnets", got)
	}
	if got := len(base.Find(typSubnet)); got != 2 {
		t.Errorf("default: %d subnets; want 2", got)
	}
}

// testKnobsCpuArchitecture is the "cpuArchitecture" part of TestKnobs.
func testKnobsCpuArchitecture(t *testing.T, f *knobsFixture) {
	base := f.base
	for _, tc := range []struct{ arch, ecs, platform string }{{"arm64", "ARM64", "linux/arm64"}, {"x86_64", "X86_64", "linux/amd64"}} {
		p := model(t, "cpuArchitecture="+tc.arch)
		for _, name := range []string{"upload", "rekog"} {
			td := one(t, p, typTaskDef, name)
			if got := get(t, td.Inputs, "runtimePlatform.cpuArchitecture"); got != tc.ecs {
				t.Errorf("%s: %s runtimePlatform = %v; want %s", tc.arch, name, got, tc.ecs)
			}
			if get(t, td.Inputs, "runtimePlatform.operatingSystemFamily") != "LINUX" {
				t.Errorf("%s: %s OS family = %v", tc.arch, name, td.Inputs["runtimePlatform"])
			}
			if got := get(t, one(t, p, typImage, name).Inputs, "build.platform"); got != tc.platform {
				t.Errorf("%s: %s image platform = %v; want %s", tc.arch, name, got, tc.platform)
			}
		}
	}
	a := one(t, base, typImage, "upload").Inputs["imageName"]
	b := one(t, model(t, "cpuArchitecture=x86_64"), typImage, "upload").Inputs["imageName"]
	if a == b {
		t.Errorf("arm64 and x86_64 images share the tag %v", a)
	}
}

// testKnobsTaskSizes is the "task sizes" part of TestKnobs.
func testKnobsTaskSizes(t *testing.T, f *knobsFixture) {
	base := f.base
	p := model(t, "uploadCpu=512", "uploadMemory=2048", "rekogCpu=1024", "rekogMemory=3072")
	for name, want := range map[string][2]string{"upload": {"512", "2048"}, "rekog": {"1024", "3072"}} {
		td := one(t, p, typTaskDef, name)
		if td.Inputs["cpu"] != want[0] || td.Inputs["memory"] != want[1] {
			t.Errorf("%s cpu/memory = %v/%v; want %v", name, td.Inputs["cpu"], td.Inputs["memory"], want)
		}
		if td.Inputs["networkMode"] != "awsvpc" || !reflect.DeepEqual(strs(t, td.Inputs["requiresCompatibilities"]), []string{"FARGATE"}) {
			t.Errorf("%s: not a Fargate awsvpc task", name)
		}
	}
	if td := one(t, base, typTaskDef, "upload"); td.Inputs["cpu"] != "256" || td.Inputs["memory"] != "512" {
		t.Errorf("default upload size %v/%v", td.Inputs["cpu"], td.Inputs["memory"])
	}
}

// testKnobsCountsAndAutoscaling is the "counts and autoscaling" part of TestKnobs.
func testKnobsCountsAndAutoscaling(t *testing.T, f *knobsFixture) {
	base := f.base
	if n := len(base.Find(typScaleTarget)) + len(base.Find(typScalePolicy)); n != 0 {
		t.Errorf("default (max = desired): %d autoscaling resources; want none", n)
	}
	if got := one(t, base, typService, "upload").IgnoreChanges; len(got) != 0 {
		t.Errorf("default: upload ignores changes to %v; want none without autoscaling", got)
	}
	p := model(t, "desiredCount=2", "maxCount=5")
	for _, name := range []string{"upload", "rekog"} {
		if got := one(t, p, typService, name).Inputs["desiredCount"]; got != 2.0 {
			t.Errorf("%s desiredCount = %v", name, got)
		}
		tg := one(t, p, typScaleTarget, name)
		svc := one(t, p, typService, name)
		wantID := "service/" + one(t, p, typCluster, "cluster").Outputs["name"].(string) + "/" + svc.Outputs["name"].(string)
		if tg.Inputs["minCapacity"] != 2.0 || tg.Inputs["maxCapacity"] != 5.0 || tg.Inputs["resourceId"] != wantID ||
			tg.Inputs["scalableDimension"] != "ecs:service:DesiredCount" || tg.Inputs["serviceNamespace"] != "ecs" {
			t.Errorf("%s scaling target = %v; want 2..5 on %s", name, tg.Inputs, wantID)
		}
		// Application Auto Scaling owns the count once enabled; an `up`
		// must not reset it.
		if !slices.Contains(svc.IgnoreChanges, "desiredCount") {
			t.Errorf("%s ignoreChanges = %v; want desiredCount", name, svc.IgnoreChanges)
		}
		pol := one(t, p, typScalePolicy, name+"-cpu")
		if pol.Inputs["policyType"] != "TargetTrackingScaling" || pol.Inputs["resourceId"] != wantID ||
			get(t, pol.Inputs, "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType") != "ECSServiceAverageCPUUtilization" {
			t.Errorf("%s scaling policy = %v", name, pol.Inputs)
		}
	}
}

// testKnobsLogRetentionDays is the "logRetentionDays" part of TestKnobs.
func testKnobsLogRetentionDays(t *testing.T, f *knobsFixture) {
	base := f.base
	p := model(t, "logRetentionDays=14")
	groups := p.Find(typLogGroup)
	if len(groups) != 4 {
		t.Fatalf("%d log groups; want 4 (upload, rekog, API access, VPC flow rejects)", len(groups))
	}
	for _, lg := range groups {
		if lg.Inputs["retentionInDays"] != 14.0 {
			t.Errorf("log group %s retention = %v; want 14", lg.Name, lg.Inputs["retentionInDays"])
		}
	}
	for _, lg := range base.Find(typLogGroup) {
		if lg.Inputs["retentionInDays"] != 7.0 {
			t.Errorf("default log group %s retention = %v; want 7", lg.Name, lg.Inputs["retentionInDays"])
		}
	}
}

// testKnobsThrottling is the "throttling" part of TestKnobs.
func testKnobsThrottling(t *testing.T, f *knobsFixture) {
	p := model(t, "apiThrottleRate=12.5", "apiThrottleBurst=30")
	st := one(t, p, typStage, "api")
	if get(t, st.Inputs, "defaultRouteSettings.throttlingRateLimit") != 12.5 || get(t, st.Inputs, "defaultRouteSettings.throttlingBurstLimit") != 30.0 {
		t.Errorf("stage throttling = %v", st.Inputs["defaultRouteSettings"])
	}
}

// testKnobsMaxUploadBytes is the "maxUploadBytes" part of TestKnobs.
func testKnobsMaxUploadBytes(t *testing.T, f *knobsFixture) {
	p := model(t, "maxUploadBytes=1048576")
	if got := envOf(t, container(t, p, "upload"))["MAX_UPLOAD_BYTES"]; got != "1048576" {
		t.Errorf("MAX_UPLOAD_BYTES = %q", got)
	}
}

// testKnobsUploadMemory is the "uploadMemory" part of TestKnobs.
func testKnobsUploadMemory(t *testing.T, f *knobsFixture) {
	// upload's buffer budget and Go heap limit follow its task's memory.
	for _, c := range []struct{ mem, buffer, limit string }{
		{"512", "100663296", "316MiB"},
		{"1024", "201326592", "691MiB"},
	} {
		env := envOf(t, container(t, model(t, "uploadMemory="+c.mem), "upload"))
		if env["UPLOAD_BUFFER_BYTES"] != c.buffer || env["GOMEMLIMIT"] != c.limit {
			t.Errorf("uploadMemory=%s: UPLOAD_BUFFER_BYTES=%q GOMEMLIMIT=%q; want %s and %s",
				c.mem, env["UPLOAD_BUFFER_BYTES"], env["GOMEMLIMIT"], c.buffer, c.limit)
		}
	}
}

// testKnobsNamespace is the "namespace" part of TestKnobs.
func testKnobsNamespace(t *testing.T, f *knobsFixture) {
	// The stack of model() is "test"; it prefixes every namespace.
	p := model(t, "namespace=labels.internal")
	if got := one(t, p, typHTTPNS, "cluster").Inputs["name"]; got != "test.labels.internal" {
		t.Errorf("namespace = %v", got)
	}
	if got := envOf(t, container(t, p, "upload"))["REKOG_URL"]; got != "http://rekog.test.labels.internal:9090" {
		t.Errorf("REKOG_URL = %q", got)
	}
	if got := get(t, one(t, p, typService, "rekog").Inputs, "serviceConnectConfiguration.services.0.clientAlias.0.dnsName"); got != "rekog.test.labels.internal" {
		t.Errorf("alias = %v", got)
	}
	if got := one(t, p, typDNSNS, "api").Inputs["name"]; got != "api.test.labels.internal" {
		t.Errorf("private DNS namespace = %v", got)
	}
	if p.Outputs["serviceConnectNamespace"] != "test.labels.internal" {
		t.Errorf("output namespace = %v", p.Outputs["serviceConnectNamespace"])
	}
}

// testKnobsImageRetentionDays is the "imageRetentionDays" part of TestKnobs.
func testKnobsImageRetentionDays(t *testing.T, f *knobsFixture) {
	p := model(t, "imageRetentionDays=3")
	rule := get(t, one(t, p, typLifecycle, "images").Inputs, "rules.0").(map[string]any)
	if get(t, rule, "expiration.days") != 3.0 || get(t, rule, "filter.prefix") != "uploads/" || rule["status"] != "Enabled" {
		t.Errorf("lifecycle rule = %v", rule)
	}
}

// testKnobsContainerInsights is the "containerInsights" part of TestKnobs.
func testKnobsContainerInsights(t *testing.T, f *knobsFixture) {
	for v, want := range map[string]string{"true": "enabled", "false": "disabled"} {
		p := model(t, "containerInsights="+v)
		s := get(t, one(t, p, typCluster, "cluster").Inputs, "settings.0").(map[string]any)
		if s["name"] != "containerInsights" || s["value"] != want {
			t.Errorf("containerInsights=%s: setting %v; want %s", v, s, want)
		}
	}
}
