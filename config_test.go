package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// getter returns a config getter over short keys.
func getter(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(getter(nil))
	if err != nil {
		t.Fatalf("loadConfig(defaults) = %v", err)
	}
	want := Config{
		AZCount: 1, CPUArchitecture: "arm64", UploadCPU: 256, UploadMemory: 512, RekogCPU: 256, RekogMemory: 512,
		DesiredCount: 1, MaxCount: 1, NATMode: "gateway", LogRetentionDays: 7, APIThrottleRate: 50, APIThrottleBurst: 100,
		MaxUploadBytes: 10485760, Namespace: "imagelabel.internal", ImageRetentionDays: 30, ContainerInsights: false,
	}
	if c != want {
		t.Errorf("loadConfig(defaults) = %+v; want %+v", c, want)
	}
	if c.ECSArchitecture() != "ARM64" || c.GOARCH() != "arm64" {
		t.Errorf("arm64 maps to %s/%s", c.ECSArchitecture(), c.GOARCH())
	}
}

// TestConfigValidation: every bad value is rejected with an error naming
// its key.
func TestConfigValidation(t *testing.T) {
	cases := []struct {
		key, value string
		extra      map[string]string
		wantKey    string
	}{
		{"azCount", "0", nil, "azCount"},
		{"azCount", "7", nil, "azCount"},
		{"azCount", "two", nil, "azCount"},
		{"cpuArchitecture", "ARM64", nil, "cpuArchitecture"},
		{"cpuArchitecture", "amd64", nil, "cpuArchitecture"},
		{"uploadCpu", "300", nil, "uploadCpu"},
		{"uploadMemory", "4096", nil, "uploadMemory"}, // 256 CPU allows 512..2048
		{"rekogMemory", "1536", map[string]string{"rekogCpu": "512"}, "rekogMemory"},
		{"rekogCpu", "1000", nil, "rekogCpu"},
		{"desiredCount", "0", nil, "desiredCount"},
		{"maxCount", "1", map[string]string{"desiredCount": "2"}, "maxCount"},
		{"natMode", "none", nil, "natMode"},
		{"logRetentionDays", "10", nil, "logRetentionDays"},
		{"logRetentionDays", "0", nil, "logRetentionDays"},
		{"apiThrottleRate", "0", nil, "apiThrottleRate"},
		{"apiThrottleRate", "fast", nil, "apiThrottleRate"},
		{"apiThrottleRate", "10001", nil, "apiThrottleRate"},
		{"apiThrottleBurst", "0", nil, "apiThrottleBurst"},
		{"apiThrottleBurst", "5001", nil, "apiThrottleBurst"},
		{"maxUploadBytes", "10485761", nil, "maxUploadBytes"},
		{"maxUploadBytes", "0", nil, "maxUploadBytes"},
		{"maxUploadBytes", "1023", nil, "maxUploadBytes"}, // upload would refuse it at start
		{"namespace", "imagelabel.com", nil, "namespace"},
		{"namespace", "internal.com", nil, "namespace"},
		{"namespace", "Imagelabel.internal", nil, "namespace"},
		{"namespace", ".internal", nil, "namespace"},
		{"imageRetentionDays", "0", nil, "imageRetentionDays"},
		{"containerInsights", "maybe", nil, "containerInsights"},
	}
	for _, tc := range cases {
		kv := map[string]string{tc.key: tc.value}
		for k, v := range tc.extra {
			kv[k] = v
		}
		_, err := loadConfig(getter(kv))
		if err == nil {
			t.Errorf("loadConfig(%v) = nil error; want error naming %s", kv, tc.wantKey)
			continue
		}
		if !strings.Contains(err.Error(), "imagelabel:"+tc.wantKey+":") {
			t.Errorf("loadConfig(%v) = %q; want it to name imagelabel:%s", kv, err, tc.wantKey)
		}
	}
	// Good edge values are accepted.
	good := map[string]string{
		"azCount": "3", "cpuArchitecture": "x86_64", "uploadCpu": "1024", "uploadMemory": "8192",
		"rekogCpu": "16384", "rekogMemory": "122880", "desiredCount": "2", "maxCount": "4",
		"logRetentionDays": "3653", "apiThrottleRate": "0.5e1", "apiThrottleBurst": "5000",
		"maxUploadBytes": "10485760", "namespace": "img-label.dev.internal", "imageRetentionDays": "1",
		"containerInsights": "true",
	}
	c, err := loadConfig(getter(good))
	if err != nil {
		t.Fatalf("loadConfig(%v) = %v", good, err)
	}
	if c.APIThrottleRate != 5 || c.ECSArchitecture() != "X86_64" || c.GOARCH() != "amd64" || !c.ContainerInsights {
		t.Errorf("loadConfig(good) = %+v", c)
	}
}

func TestFargateMemoryOptions(t *testing.T) {
	for cpu, want := range map[int][2]int{256: {512, 2048}, 512: {1024, 4096}, 1024: {2048, 8192}, 2048: {4096, 16384}, 4096: {8192, 30720}, 8192: {16384, 61440}, 16384: {32768, 122880}} {
		got := FargateMemoryOptions(cpu)
		if got[0] != want[0] || got[len(got)-1] != want[1] {
			t.Errorf("FargateMemoryOptions(%d) = %d..%d; want %d..%d", cpu, got[0], got[len(got)-1], want[0], want[1])
		}
	}
	if FargateMemoryOptions(128) != nil {
		t.Errorf("FargateMemoryOptions(128) != nil")
	}
	if slices.Contains(FargateMemoryOptions(8192), 17408) {
		t.Errorf("8 vCPU accepts 17408 MiB; Fargate uses 4 GiB steps")
	}
}

// TestKnobs: each config key changes what it should in the deployment.
func TestKnobs(t *testing.T) {
	base := model(t)

	t.Run("azCount", func(t *testing.T) {
		p := model(t, "azCount=3")
		if got := len(p.find(typSubnet)); got != 6 {
			t.Errorf("azCount=3: %d subnets; want 6", got)
		}
		if got := len(p.find(typNAT)); got != 1 {
			t.Errorf("azCount=3: %d NAT gateways; want 1 (gateway mode)", got)
		}
		if got := len(strs(t, p.one(t, typEndpoint, "net-s3").Inputs["routeTableIds"])); got != 3 {
			t.Errorf("azCount=3: S3 endpoint on %d route tables; want 3", got)
		}
		azs := map[any]bool{}
		for _, s := range p.find(typSubnet) {
			azs[s.Inputs["availabilityZoneId"]] = true
		}
		if len(azs) != 3 {
			t.Errorf("azCount=3: subnets in %d zones", len(azs))
		}
		// The mock, like AWS, lists an opted-in Local Zone unless the program
		// asks for standard zones only; it is not a VPC-link zone either.
		for az := range azs {
			if s, _ := az.(string); !slices.Contains(regionTable["us-east-1"].VPCLinkZones, s) {
				t.Errorf("azCount=3: subnet in %v; want only standard zones with VPC links", az)
			}
		}
		if got := len(strs(t, p.one(t, typVpcLink, "api").Inputs["subnetIds"])); got != 3 {
			t.Errorf("azCount=3: VPC link in %d subnets", got)
		}
		if got := len(strs(t, get(t, p.one(t, typService, "upload").Inputs, "networkConfiguration.subnets"))); got != 3 {
			t.Errorf("azCount=3: upload in %d subnets", got)
		}
		if got := len(base.find(typSubnet)); got != 2 {
			t.Errorf("default: %d subnets; want 2", got)
		}
	})

	t.Run("cpuArchitecture", func(t *testing.T) {
		for _, tc := range []struct{ arch, ecs, platform string }{{"arm64", "ARM64", "linux/arm64"}, {"x86_64", "X86_64", "linux/amd64"}} {
			p := model(t, "cpuArchitecture="+tc.arch)
			for _, name := range []string{"upload", "rekog"} {
				td := p.one(t, typTaskDef, name)
				if got := get(t, td.Inputs, "runtimePlatform.cpuArchitecture"); got != tc.ecs {
					t.Errorf("%s: %s runtimePlatform = %v; want %s", tc.arch, name, got, tc.ecs)
				}
				if get(t, td.Inputs, "runtimePlatform.operatingSystemFamily") != "LINUX" {
					t.Errorf("%s: %s OS family = %v", tc.arch, name, td.Inputs["runtimePlatform"])
				}
				if got := get(t, p.one(t, typImage, name).Inputs, "build.platform"); got != tc.platform {
					t.Errorf("%s: %s image platform = %v; want %s", tc.arch, name, got, tc.platform)
				}
			}
		}
		a := base.one(t, typImage, "upload").Inputs["imageName"]
		b := model(t, "cpuArchitecture=x86_64").one(t, typImage, "upload").Inputs["imageName"]
		if a == b {
			t.Errorf("arm64 and x86_64 images share the tag %v", a)
		}
	})

	t.Run("task sizes", func(t *testing.T) {
		p := model(t, "uploadCpu=512", "uploadMemory=2048", "rekogCpu=1024", "rekogMemory=3072")
		for name, want := range map[string][2]string{"upload": {"512", "2048"}, "rekog": {"1024", "3072"}} {
			td := p.one(t, typTaskDef, name)
			if td.Inputs["cpu"] != want[0] || td.Inputs["memory"] != want[1] {
				t.Errorf("%s cpu/memory = %v/%v; want %v", name, td.Inputs["cpu"], td.Inputs["memory"], want)
			}
			if td.Inputs["networkMode"] != "awsvpc" || !reflect.DeepEqual(strs(t, td.Inputs["requiresCompatibilities"]), []string{"FARGATE"}) {
				t.Errorf("%s: not a Fargate awsvpc task", name)
			}
		}
		if td := base.one(t, typTaskDef, "upload"); td.Inputs["cpu"] != "256" || td.Inputs["memory"] != "512" {
			t.Errorf("default upload size %v/%v", td.Inputs["cpu"], td.Inputs["memory"])
		}
	})

	t.Run("counts and autoscaling", func(t *testing.T) {
		if n := len(base.find(typScaleTarget)) + len(base.find(typScalePolicy)); n != 0 {
			t.Errorf("default (max = desired): %d autoscaling resources; want none", n)
		}
		if got := base.one(t, typService, "upload").IgnoreChanges; len(got) != 0 {
			t.Errorf("default: upload ignores changes to %v; want none without autoscaling", got)
		}
		p := model(t, "desiredCount=2", "maxCount=5")
		for _, name := range []string{"upload", "rekog"} {
			if got := p.one(t, typService, name).Inputs["desiredCount"]; got != 2.0 {
				t.Errorf("%s desiredCount = %v", name, got)
			}
			tg := p.one(t, typScaleTarget, name)
			svc := p.one(t, typService, name)
			wantID := "service/" + p.one(t, typCluster, "cluster").Outputs["name"].(string) + "/" + svc.Outputs["name"].(string)
			if tg.Inputs["minCapacity"] != 2.0 || tg.Inputs["maxCapacity"] != 5.0 || tg.Inputs["resourceId"] != wantID ||
				tg.Inputs["scalableDimension"] != "ecs:service:DesiredCount" || tg.Inputs["serviceNamespace"] != "ecs" {
				t.Errorf("%s scaling target = %v; want 2..5 on %s", name, tg.Inputs, wantID)
			}
			// Application Auto Scaling owns the count once enabled; an `up`
			// must not reset it.
			if !slices.Contains(svc.IgnoreChanges, "desiredCount") {
				t.Errorf("%s ignoreChanges = %v; want desiredCount", name, svc.IgnoreChanges)
			}
			pol := p.one(t, typScalePolicy, name+"-cpu")
			if pol.Inputs["policyType"] != "TargetTrackingScaling" || pol.Inputs["resourceId"] != wantID ||
				get(t, pol.Inputs, "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType") != "ECSServiceAverageCPUUtilization" {
				t.Errorf("%s scaling policy = %v", name, pol.Inputs)
			}
		}
	})

	t.Run("logRetentionDays", func(t *testing.T) {
		p := model(t, "logRetentionDays=14")
		groups := p.find(typLogGroup)
		if len(groups) != 4 {
			t.Fatalf("%d log groups; want 4 (upload, rekog, API access, VPC flow rejects)", len(groups))
		}
		for _, lg := range groups {
			if lg.Inputs["retentionInDays"] != 14.0 {
				t.Errorf("log group %s retention = %v; want 14", lg.Name, lg.Inputs["retentionInDays"])
			}
		}
		for _, lg := range base.find(typLogGroup) {
			if lg.Inputs["retentionInDays"] != 7.0 {
				t.Errorf("default log group %s retention = %v; want 7", lg.Name, lg.Inputs["retentionInDays"])
			}
		}
	})

	t.Run("throttling", func(t *testing.T) {
		p := model(t, "apiThrottleRate=12.5", "apiThrottleBurst=30")
		st := p.one(t, typStage, "api")
		if get(t, st.Inputs, "defaultRouteSettings.throttlingRateLimit") != 12.5 || get(t, st.Inputs, "defaultRouteSettings.throttlingBurstLimit") != 30.0 {
			t.Errorf("stage throttling = %v", st.Inputs["defaultRouteSettings"])
		}
	})

	t.Run("maxUploadBytes", func(t *testing.T) {
		p := model(t, "maxUploadBytes=1048576")
		if got := envOf(t, container(t, p, "upload"))["MAX_UPLOAD_BYTES"]; got != "1048576" {
			t.Errorf("MAX_UPLOAD_BYTES = %q", got)
		}
	})

	t.Run("uploadMemory", func(t *testing.T) {
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
	})

	t.Run("namespace", func(t *testing.T) {
		// The stack of model() is "test"; it prefixes every namespace.
		p := model(t, "namespace=labels.internal")
		if got := p.one(t, typHTTPNS, "cluster").Inputs["name"]; got != "test.labels.internal" {
			t.Errorf("namespace = %v", got)
		}
		if got := envOf(t, container(t, p, "upload"))["REKOG_URL"]; got != "http://rekog.test.labels.internal:9090" {
			t.Errorf("REKOG_URL = %q", got)
		}
		if got := get(t, p.one(t, typService, "rekog").Inputs, "serviceConnectConfiguration.services.0.clientAlias.0.dnsName"); got != "rekog.test.labels.internal" {
			t.Errorf("alias = %v", got)
		}
		if got := p.one(t, typDNSNS, "api").Inputs["name"]; got != "api.test.labels.internal" {
			t.Errorf("private DNS namespace = %v", got)
		}
		if p.Outputs["serviceConnectNamespace"] != "test.labels.internal" {
			t.Errorf("output namespace = %v", p.Outputs["serviceConnectNamespace"])
		}
	})

	t.Run("imageRetentionDays", func(t *testing.T) {
		p := model(t, "imageRetentionDays=3")
		rule := get(t, p.one(t, typLifecycle, "images").Inputs, "rules.0").(map[string]any)
		if get(t, rule, "expiration.days") != 3.0 || get(t, rule, "filter.prefix") != "uploads/" || rule["status"] != "Enabled" {
			t.Errorf("lifecycle rule = %v", rule)
		}
	})

	t.Run("containerInsights", func(t *testing.T) {
		for v, want := range map[string]string{"true": "enabled", "false": "disabled"} {
			p := model(t, "containerInsights="+v)
			s := get(t, p.one(t, typCluster, "cluster").Inputs, "settings.0").(map[string]any)
			if s["name"] != "containerInsights" || s["value"] != want {
				t.Errorf("containerInsights=%s: setting %v; want %s", v, s, want)
			}
		}
	})
}

// TestPlanJSON runs `plan --json` on the committed dev stack file and checks
// the output's shape.
func TestPlanJSON(t *testing.T) {
	var out bytes.Buffer
	if err := runPlan([]string{"--json", "--stack", "dev", "--set", "azCount=2", "--set", "imagelabel:maxCount=3"}, ".", &out); err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	var doc struct {
		Resources          []map[string]any `json:"resources"`
		Outputs            map[string]any   `json:"outputs"`
		PlaceholderOutputs []string         `json:"placeholderOutputs"`
		Cost               map[string]any   `json:"cost"`
	}
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("plan output is not the documented JSON: %v", err)
	}
	if len(doc.Resources) < 50 {
		t.Errorf("%d resources; want the whole deployment", len(doc.Resources))
	}
	if len(doc.Outputs) != 10 || doc.Outputs["region"] != "us-east-1" {
		t.Errorf("outputs = %v", doc.Outputs)
	}
	subnets, targets := 0, 0
	for _, r := range doc.Resources {
		for _, k := range []string{"type", "name", "parent", "inputs", "outputs"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("resource %v lacks %q", r, k)
			}
		}
		if r["custom"] == true {
			outs := r["outputs"].(map[string]any)
			if id, _ := outs["id"].(string); id == "" {
				t.Errorf("%s %s has no mock id", r["type"], r["name"])
			}
			for k, v := range r["inputs"].(map[string]any) {
				if !reflect.DeepEqual(outs[k], v) {
					t.Errorf("%s %s: output %s = %v; want its input %v", r["type"], r["name"], k, outs[k], v)
				}
			}
		}
		switch r["type"] {
		case typSubnet:
			subnets++
		case typScaleTarget:
			targets++
		case typImage:
			if got := get(t, r["inputs"], "registry.password"); got != "[secret]" {
				t.Errorf("registry password printed as %v", got)
			}
		}
	}
	if subnets != 4 || targets != 2 {
		t.Errorf("--set azCount=2 maxCount=3: %d subnets, %d scaling targets; want 4 and 2", subnets, targets)
	}
	if bytes.Contains(out.Bytes(), []byte("mock-ecr-password")) {
		t.Errorf("plan leaks the registry password")
	}

	var tree bytes.Buffer
	if err := runPlan(nil, ".", &tree); err != nil {
		t.Fatalf("plan: %v", err)
	}
	for _, want := range []string{"imagelabel:network:Network", "imagelabel:service:FargateService", "GET /labels/{proxy+}", "apiUrl = <https://"} {
		if !strings.Contains(tree.String(), want) {
			t.Errorf("plan tree lacks %q", want)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "azcount=2"}, "unknown config key azcount; did you mean azCount?"},
		{[]string{"--set", "azCount"}, "want key=value"},
		{[]string{"--set", "namespace=example.com"}, "imagelabel:namespace"},
		{[]string{"--set", "uploadMemory=4096"}, "imagelabel:uploadMemory"},
		{[]string{"--stack", "nosuch"}, "Pulumi.nosuch.yaml"},
		{[]string{"--bogus"}, "usage"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		err := runPlan(tc.args, ".", &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("plan %v = %v; want error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestStackFilesDocumentEveryKey keeps Pulumi.yaml, Pulumi.dev.yaml and
// the configuration table of docs/deploy.md in step with configKeys.
func TestStackFilesDocumentEveryKey(t *testing.T) {
	dev, err := readStackConfig(".", "dev")
	if err != nil {
		t.Fatal(err)
	}
	project, err := os.ReadFile("Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range configKeys {
		full := "imagelabel:" + k.Name
		if dev[full] != k.Default {
			t.Errorf("Pulumi.dev.yaml %s = %q; want the default %q", full, dev[full], k.Default)
		}
		if !strings.Contains(string(project), "  "+full+":\n") {
			t.Errorf("Pulumi.yaml does not declare %s", full)
		}
		def := "`" + k.Default + "`"
		if k.Default == "" {
			def = "(none)"
		}
		if !strings.Contains(string(doc), "| `"+k.Name+"` | "+def+" |") {
			t.Errorf("docs/deploy.md has no table row for %s with default %s", k.Name, k.Default)
		}
	}
	if dev["aws:region"] != "us-east-1" {
		t.Errorf("dev region = %q", dev["aws:region"])
	}
}

// TestPulumiProjectFiles loads Pulumi.yaml and Pulumi.dev.yaml with the
// Pulumi SDK's own loader (the one the CLI uses), so a schema error in the
// project file or a dev value of the wrong type fails here, not at `up`.
func TestPulumiProjectFiles(t *testing.T) {
	proj, err := workspace.LoadProject("Pulumi.yaml")
	if err != nil {
		t.Fatalf("LoadProject(Pulumi.yaml) = %v", err)
	}
	if proj.Name.String() != projectName || proj.Runtime.Name() != "go" {
		t.Errorf("project %s runtime %s; want %s go", proj.Name, proj.Runtime.Name(), projectName)
	}
	for _, k := range configKeys {
		ct, ok := proj.Config[projectName+":"+k.Name]
		if !ok {
			t.Errorf("Pulumi.yaml lacks %s", k.Name)
			continue
		}
		if got := fmt.Sprint(ct.Default); got != k.Default {
			t.Errorf("Pulumi.yaml default of %s = %s; want %s", k.Name, got, k.Default)
		}
		if ct.Description == "" {
			t.Errorf("Pulumi.yaml %s has no description", k.Name)
		}
	}
	if len(proj.Config) != len(configKeys) {
		t.Errorf("Pulumi.yaml declares %d keys; want %d", len(proj.Config), len(configKeys))
	}
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	if _, err := workspace.LoadProjectStack(sink, proj, "Pulumi.dev.yaml"); err != nil {
		t.Errorf("LoadProjectStack(Pulumi.dev.yaml) = %v", err)
	}
}

// TestReadStackConfig: project keys may be written without the namespace,
// secure values are never read, other namespaces stay as they are.
func TestReadStackConfig(t *testing.T) {
	dir := t.TempDir()
	stack := "config:\n  aws:region: eu-west-1\n  azCount: 2\n  imagelabel:containerInsights: true\n  imagelabel:namespace:\n    secure: AAABAKxyz\n"
	if err := os.WriteFile(dir+"/Pulumi.other.yaml", []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readStackConfig(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"aws:region": "eu-west-1", "imagelabel:azCount": "2", "imagelabel:containerInsights": "true", "imagelabel:namespace": "[secret]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readStackConfig = %v; want %v", got, want)
	}
	// The plan uses that file: the region reaches the mocks and the outputs.
	var out bytes.Buffer
	if err := runPlan([]string{"--json", "--stack", "other", "--set", "namespace=x.internal"}, dir, &out); err != nil {
		t.Fatalf("plan --stack other: %v", err)
	}
	var doc planResult
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Outputs["region"] != "eu-west-1" || doc.Outputs["serviceConnectNamespace"] != "other.x.internal" {
		t.Errorf("plan --stack other outputs = %v", doc.Outputs)
	}
	if n := len(doc.find(typSubnet)); n != 4 {
		t.Errorf("azCount: 2 (unnamespaced) gave %d subnets; want 4", n)
	}
	if err := runPlan([]string{"--stack", "other"}, dir, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "imagelabel:namespace") {
		t.Errorf("plan with a secret namespace = %v; want a namespace error", err)
	}
}

// TestConfigErrorsFormat: every problem on its own line under a count that
// matches them.
func TestConfigErrorsFormat(t *testing.T) {
	_, err := loadConfig(getter(map[string]string{"azCount": "9", "natMode": "none"}))
	want := "invalid config (2 errors):\n  imagelabel:azCount: 9 is out of range 1..6\n  imagelabel:natMode: \"none\" must be one of gateway, instance, endpoints"
	if err == nil || err.Error() != want {
		t.Errorf("loadConfig(two problems) = %v; want\n%s", err, want)
	}
	_, err = loadConfig(getter(map[string]string{"azCount": "9"}))
	if err == nil || !strings.HasPrefix(err.Error(), "invalid config (1 error):\n  imagelabel:azCount:") {
		t.Errorf("loadConfig(one problem) = %v; want it headed (1 error)", err)
	}
	// The plan prints the same, not wrapped in Pulumi's "1 error occurred".
	perr := runPlan([]string{"--set", "azCount=9", "--set", "natMode=none"}, ".", io.Discard)
	if perr == nil || perr.Error() != want {
		t.Errorf("plan with two problems = %v; want\n%s", perr, want)
	}
}

// TestFargatePairSuggestion: a wrong CPU/memory pair comes with a valid one.
func TestFargatePairSuggestion(t *testing.T) {
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"uploadMemory": "4096"}, "imagelabel:uploadMemory: 4096 MiB is not valid with uploadCpu=256 on Fargate (256 allows 512, 1024 or 2048 MiB); for 4096 MiB set uploadCpu=512"},
		{map[string]string{"rekogMemory": "16384"}, "for 16384 MiB set rekogCpu=2048"},
		{map[string]string{"rekogCpu": "1024", "rekogMemory": "1024"}, "(1024 allows 2048..8192 MiB in steps of 1024); for 1024 MiB set rekogCpu=256"},
		{map[string]string{"uploadMemory": "1536"}, "no CPU size allows 1536 MiB; try uploadMemory=1024"},
		{map[string]string{"uploadCpu": "512", "uploadMemory": "5000"}, "try uploadMemory=4096"},
	} {
		_, err := loadConfig(getter(tc.kv))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("loadConfig(%v) = %v; want it to contain %q", tc.kv, err, tc.want)
		}
		// The suggestion itself is valid.
		if err != nil {
			fixed := map[string]string{}
			for k, v := range tc.kv {
				fixed[k] = v
			}
			k, v, _ := strings.Cut(tc.want[strings.LastIndex(tc.want, " ")+1:], "=")
			fixed[k] = v
			if _, err := loadConfig(getter(fixed)); err != nil {
				t.Errorf("suggested %s=%s for %v, yet loadConfig(%v) = %v", k, v, tc.kv, fixed, err)
			}
		}
	}
}

// TestUnknownKeys: a key of the project namespace the program does not read
// is an error with the nearest known key; other namespaces are not ours.
func TestUnknownKeys(t *testing.T) {
	names := []string{"aws:region", "aws:profile", "imagelabel:azcount", "imagelabel:uploadMem", "imagelabel:colour", "imagelabel:azCount"}
	_, err := loadStackConfig(getter(nil), names)
	want := "invalid config (3 errors):\n" +
		"  imagelabel:azcount: unknown key; did you mean azCount?\n" +
		"  imagelabel:colour: unknown key; the keys are listed by `go run . plan --help`\n" +
		"  imagelabel:uploadMem: unknown key; did you mean uploadMemory?"
	if err == nil || err.Error() != want {
		t.Errorf("loadStackConfig(%q) = %v; want\n%s", names, err, want)
	}
	if _, err := loadStackConfig(getter(nil), []string{"aws:region", "imagelabel:azCount"}); err != nil {
		t.Errorf("loadStackConfig(known keys) = %v", err)
	}
	// Unknown keys and bad values are counted together.
	_, err = loadStackConfig(getter(map[string]string{"azCount": "0"}), []string{"imagelabel:azcont"})
	if err == nil || !strings.HasPrefix(err.Error(), "invalid config (2 errors):\n  imagelabel:azcont: unknown key; did you mean azCount?\n  imagelabel:azCount:") {
		t.Errorf("loadStackConfig(unknown key and bad value) = %v", err)
	}
	// The names come from PULUMI_CONFIG, as the Pulumi CLI passes them.
	if got := configNames(`{"imagelabel:azCount":"2","aws:region":"eu-west-1"}`); !slices.Equal(got, []string{"aws:region", "imagelabel:azCount"}) {
		t.Errorf("configNames = %q", got)
	}
	if got := configNames(""); got != nil {
		t.Errorf("configNames(\"\") = %q; want none", got)
	}
}

// TestPlanUnknownKeys: a typo in the stack file or in --set is caught by the
// plan with the nearest key.
func TestPlanUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/Pulumi.typo.yaml", []byte("config:\n  aws:region: us-east-1\n  imagelabel:azcount: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runPlan([]string{"--stack", "typo"}, dir, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "(1 error):\n  imagelabel:azcount: unknown key; did you mean azCount?") {
		t.Errorf("plan with azcount in the stack file = %v; want an unknown-key error suggesting azCount", err)
	}
	err = runPlan([]string{"--set", "maxcount=2"}, ".", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unknown config key maxcount; did you mean maxCount?") {
		t.Errorf("plan --set maxcount=2 = %v; want a suggestion of maxCount", err)
	}
}

// TestPlanMissingStack: a stack without a config file is explained.
func TestPlanMissingStack(t *testing.T) {
	err := runPlan([]string{"--stack", "prod"}, ".", io.Discard)
	for _, want := range []string{"no config file Pulumi.prod.yaml", "stacks with a config file: dev", "pulumi stack init prod", "copy Pulumi.dev.yaml to Pulumi.prod.yaml"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("plan --stack prod = %v; want it to contain %q", err, want)
		}
	}
	err = runPlan([]string{"--stack", "dev"}, t.TempDir(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no stack has one yet") {
		t.Errorf("plan in an empty directory = %v; want it to say no stack has a config file", err)
	}
}

// TestPlanHelp: --help prints the flags and every key with its default and
// range, from configKeys.
func TestPlanHelp(t *testing.T) {
	var out bytes.Buffer
	if err := runPlan([]string{"--help"}, ".", &out); !errors.Is(err, errHelp) {
		t.Fatalf("plan --help = %v; want errHelp", err)
	}
	for _, want := range []string{"--json", "--stack string", "(default dev)", "--set key=value", "placeholders"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan --help lacks %q:\n%s", want, out.String())
		}
	}
	for _, k := range configKeys {
		if want := fmt.Sprintf("  %s (default %s; %s)\n      %s\n", k.Name, k.Default, k.Range, k.Meaning); !strings.Contains(out.String(), want) {
			t.Errorf("plan --help lacks the entry of %s:\n%s", k.Name, want)
		}
	}
}

// TestConfigKeyRanges keeps each key's documented Range true to loadConfig:
// both ends of an "lo..hi" range are accepted and one step beyond each is
// refused; every value of an "a | b" set is accepted and others refused.
func TestConfigKeyRanges(t *testing.T) {
	// Keys whose every value needs another key set: spot=true needs x86_64.
	companions := map[string]map[string]string{"spot": {"cpuArchitecture": "x86_64"}}
	accepts := func(key, v string) bool {
		cfg := map[string]string{key: v}
		for ck, cv := range companions[key] {
			cfg[ck] = cv
		}
		_, err := loadConfig(getter(cfg))
		return err == nil || !strings.Contains(err.Error(), "imagelabel:"+key+":")
	}
	for _, k := range configKeys {
		if k.Range == "" || k.Meaning == "" {
			t.Errorf("%s: no Range or Meaning", k.Name)
		}
		if !accepts(k.Name, k.Default) {
			t.Errorf("%s: the default %s is refused", k.Name, k.Default)
		}
		if lo, hi, ok := strings.Cut(k.Range, ".."); ok && !strings.Contains(k.Range, " ") {
			for _, end := range []struct {
				v    string
				step float64
			}{{lo, -1}, {hi, 1}} {
				n, err := strconv.ParseFloat(end.v, 64)
				if err != nil {
					continue // an end named after another key (desiredCount..100)
				}
				if !accepts(k.Name, end.v) {
					t.Errorf("%s: %s (an end of its range %s) is refused", k.Name, end.v, k.Range)
				}
				if beyond := strconv.FormatFloat(n+end.step, 'f', -1, 64); accepts(k.Name, beyond) {
					t.Errorf("%s: %s (beyond its range %s) is accepted", k.Name, beyond, k.Range)
				}
			}
			continue
		}
		values := strings.Split(k.Range, " | ")
		if !slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, " ") }) {
			for _, v := range values {
				if !accepts(k.Name, v) {
					t.Errorf("%s: %s (in its range %s) is refused", k.Name, v, k.Range)
				}
			}
			if other := values[0] + "0"; accepts(k.Name, other) {
				t.Errorf("%s: %s (not in its range %s) is accepted", k.Name, other, k.Range)
			}
		}
	}
}

// TestPlanTreeMarksPlaceholders: the readable plan says its ids and URLs
// are made up, marks them, and echoes the --set overrides.
func TestPlanTreeMarksPlaceholders(t *testing.T) {
	var out bytes.Buffer
	if err := runPlan([]string{"--set", "azCount=2", "--set", "imagelabel:maxCount=3"}, ".", &out); err != nil {
		t.Fatalf("plan: %v", err)
	}
	tree := out.String()
	header, _, _ := strings.Cut(tree, "  api  ")
	for _, want := range []string{"planned offline under mocks", "placeholders made up by the mocks", "config: Pulumi.dev.yaml with --set azCount=2 maxCount=3"} {
		if !strings.Contains(header, want) {
			t.Errorf("plan header lacks %q:\n%s", want, header)
		}
	}
	for _, want := range []string{
		"apiUrl = <https://", ".execute-api.us-east-1.amazonaws.com/>",
		"clusterName = <cluster-", `"subnets":["<subnet-`, `imageName="<123456789012.dkr.ecr.`,
		"region = us-east-1\n", "apiLogGroup = /imagelabel/dev/api-access\n", `cidrBlock="10.0.0.0/16"`,
	} {
		if !strings.Contains(tree, want) {
			t.Errorf("plan tree lacks %q", want)
		}
	}
	var none bytes.Buffer
	if err := runPlan(nil, ".", &none); err != nil || !strings.Contains(none.String(), "config: Pulumi.dev.yaml (no --set overrides)") {
		t.Errorf("plan without --set = %v; want the header to say no overrides", err)
	}

	// JSON: the same marks, as added fields.
	var js bytes.Buffer
	if err := runPlan([]string{"--json"}, ".", &js); err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	var doc planResult
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(doc.PlaceholderOutputs, "apiUrl") || slices.Contains(doc.PlaceholderOutputs, "region") ||
		slices.Contains(doc.PlaceholderOutputs, "apiLogGroup") {
		t.Errorf("placeholderOutputs = %q; want apiUrl, not region or apiLogGroup", doc.PlaceholderOutputs)
	}
	for _, r := range doc.find(typSubnet) {
		if !slices.Contains(r.Placeholders, "id") || !slices.Contains(r.Placeholders, "arn") || slices.Contains(r.Placeholders, "cidrBlock") {
			t.Errorf("subnet %s placeholders = %q; want id and arn, no input", r.Name, r.Placeholders)
		}
	}
}
