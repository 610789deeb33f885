package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"imagelabel/infra"
)

// configNamespace is the Pulumi config namespace of this project's keys
// (the project name in Pulumi.yaml).
const configNamespace = "imagelabel"

// Config is the validated stack configuration. It is read once in main and
// handed to deploy as plain values; components never see the config object.
type Config struct {
	AZCount            int     // azCount: availability zones (one public + one private subnet each)
	CPUArchitecture    string  // cpuArchitecture: "arm64" or "x86_64"
	UploadCPU          int     // uploadCpu: task CPU units of upload
	UploadMemory       int     // uploadMemory: task memory (MiB) of upload
	RekogCPU           int     // rekogCpu: task CPU units of rekog
	RekogMemory        int     // rekogMemory: task memory (MiB) of rekog
	DesiredCount       int     // desiredCount: tasks per service
	MaxCount           int     // maxCount: autoscaling ceiling; autoscaling only when > desiredCount
	NATMode            string  // natMode: "gateway", "instance" or "endpoints" (see infra.NATMode*)
	LogRetentionDays   int     // logRetentionDays: CloudWatch Logs retention of every log group
	APIThrottleRate    float64 // apiThrottleRate: steady-state requests per second of the $default stage
	APIThrottleBurst   int     // apiThrottleBurst: burst of the $default stage
	MaxUploadBytes     int64   // maxUploadBytes: largest accepted upload
	Namespace          string  // namespace: domain of the stack's namespaces, under .internal
	ImageRetentionDays int     // imageRetentionDays: days before uploaded images expire
	ContainerInsights  bool    // containerInsights: ECS Container Insights on the cluster
	Spot               bool    // spot: run the services on Fargate Spot (x86_64 only)
	SpotOnDemandBase   int     // spotOnDemandBase: tasks per service kept on regular Fargate when spot
	MonthlyBudgetUSD   float64 // monthlyBudgetUSD: AWS Budgets monthly cost limit; 0 = no budget
	BudgetEmail        string  // budgetEmail: who the budget notifies; set with monthlyBudgetUSD
}

// configKey documents one config key: its default, the values it accepts
// and its meaning. The table drives `plan --help` and the --set validation
// of the plan; TestStackFilesDocumentEveryKey and TestPulumiProjectFiles
// hold Pulumi.yaml, Pulumi.dev.yaml and the table of docs/deploy.md to it;
// TestConfigKeyRanges checks each Range against what loadConfig accepts.
type configKey struct {
	Name    string
	Default string
	// Range is what loadConfig accepts, as `plan --help` prints it: "lo..hi"
	// for integers and numbers (checked at both ends by the test),
	// "a | b" for a closed set of values, else a short phrase.
	Range   string
	Meaning string
}

// configKeys lists every key of the imagelabel namespace with its default.
var configKeys = []configKey{
	{"azCount", "1", "1..6", "Availability zones; each gets one public and one private subnet."},
	{"cpuArchitecture", "arm64", "arm64 | x86_64", "Fargate CPU architecture and image platform."},
	{"uploadCpu", "256", "256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384", "CPU units of an upload task (Fargate sizes; the Service Connect proxy shares them)."},
	{"uploadMemory", "512", "Fargate sizes for uploadCpu (256: 512 | 1024 | 2048)", "Memory (MiB) of an upload task; must be valid for uploadCpu."},
	{"rekogCpu", "256", "256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384", "CPU units of a rekog task."},
	{"rekogMemory", "512", "Fargate sizes for rekogCpu (256: 512 | 1024 | 2048)", "Memory (MiB) of a rekog task; must be valid for rekogCpu."},
	{"desiredCount", "1", "1..100", "Tasks per service."},
	{"maxCount", "1", "desiredCount..100", "Most tasks per service; above desiredCount adds CPU target-tracking autoscaling."},
	{"natMode", "gateway", "gateway | instance | endpoints", "Egress of the private subnets: gateway (one managed NAT gateway), instance (one NAT instance, cheapest, no managed HA) or endpoints (no NAT: VPC endpoints only). See docs/cost.md."},
	{"logRetentionDays", "7", "1 | 3 | 5 | 7 | 14 | 30 | 60 | 90 | 120 | 150 | 180 | 365 | 400 | 545 | 731 | 1096 | 1827 | 2192 | 2557 | 2922 | 3288 | 3653", "Retention of every log group; one of CloudWatch Logs' allowed values."},
	{"apiThrottleRate", "50", "1..10000", "Steady-state requests per second allowed by the API stage."},
	{"apiThrottleBurst", "100", "1..5000", "Burst of requests allowed by the API stage."},
	{"maxUploadBytes", "10485760", "1024..10485760", "Largest upload request body accepted by upload, multipart framing included (at most 10 MiB, the HTTP API payload limit)."},
	{"namespace", "imagelabel.internal", "lowercase DNS name ending in .internal", "Domain of the stack's namespaces: Service Connect uses <stack>.<namespace> (rekog is rekog.<stack>.<namespace>), the API's discovery api.<stack>.<namespace>."},
	{"imageRetentionDays", "30", "1..36500", "Days before uploaded images (uploads/) expire from the bucket."},
	{"containerInsights", "false", "true | false", "ECS Container Insights on the cluster (adds CloudWatch cost)."},
	{"spot", "false", "true | false", "Run the services on Fargate Spot (about 70% cheaper, may be interrupted with a two-minute warning); needs cpuArchitecture x86_64."},
	{"spotOnDemandBase", "0", "0..100", "With spot: tasks per service kept on regular (on-demand) Fargate before any Spot task."},
	{"monthlyBudgetUSD", "", "empty (no budget) or a positive number", "Monthly AWS Budgets cost limit (USD) for this stack's tagged resources. Needs budgetEmail."},
	{"budgetEmail", "", "an email address, set together with monthlyBudgetUSD", "Email address the budget alerts at 80% forecast and 100% actual."},
}

// configErrors is every problem loadConfig found, one a line.
type configErrors []string

func (e configErrors) Error() string {
	n := "1 error"
	if len(e) != 1 {
		n = fmt.Sprintf("%d errors", len(e))
	}
	return fmt.Sprintf("invalid config (%s):\n  %s", n, strings.Join(e, "\n  "))
}

// logRetentionValues are the only retention periods CloudWatch Logs accepts:
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
var logRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// minUploadBytes is the smallest MAX_UPLOAD_BYTES upload starts with (less
// could not hold a multipart body around any image): refused at preview
// rather than as a task that never becomes healthy.
const minUploadBytes = 1024

// maxHTTPAPIPayload is the HTTP API payload quota (10 MB, not adjustable):
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
const maxHTTPAPIPayload = 10 << 20

// namespacePattern accepts lowercase DNS names whose last label is the
// reserved .internal TLD, so internal names never resolve on the internet.
var namespacePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+internal$`)

// FargateMemoryOptions returns the task memory sizes (MiB) Fargate accepts
// for cpu units, or nil when cpu is not a Fargate size. Table:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
func FargateMemoryOptions(cpu int) []int {
	span := func(from, to, step int) []int {
		var out []int
		for m := from; m <= to; m += step {
			out = append(out, m)
		}
		return out
	}
	switch cpu {
	case 256:
		return []int{512, 1024, 2048}
	case 512:
		return span(1024, 4096, 1024)
	case 1024:
		return span(2048, 8192, 1024)
	case 2048:
		return span(4096, 16384, 1024)
	case 4096:
		return span(8192, 30720, 1024)
	case 8192:
		return span(16384, 61440, 4096)
	case 16384:
		return span(32768, 122880, 8192)
	}
	return nil
}

// loadConfig reads every key through get (which returns the raw string and
// whether it was set), applies defaults and validates. Errors name the key
// as imagelabel:<key>.
func loadConfig(get func(key string) (string, bool)) (Config, error) {
	raw := map[string]string{}
	for _, k := range configKeys {
		raw[k.Name] = k.Default
		if v, ok := get(k.Name); ok {
			raw[k.Name] = strings.TrimSpace(v)
		}
	}
	var c Config
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s:%s: %s", configNamespace, key, fmt.Sprintf(format, args...)))
	}
	intKey := func(key string, lo, hi int) int {
		n, err := strconv.Atoi(raw[key])
		if err != nil {
			bad(key, "%q is not an integer", raw[key])
			return 0
		}
		if n < lo || n > hi {
			bad(key, "%d is out of range %d..%d", n, lo, hi)
		}
		return n
	}

	// us-east-1 has the most AZs (6); deploy also checks the region's count.
	c.AZCount = intKey("azCount", 1, 6)
	switch raw["cpuArchitecture"] {
	case "arm64", "x86_64":
		c.CPUArchitecture = raw["cpuArchitecture"]
	default:
		bad("cpuArchitecture", "%q must be arm64 or x86_64", raw["cpuArchitecture"])
	}
	c.UploadCPU = intKey("uploadCpu", 256, 16384)
	c.UploadMemory = intKey("uploadMemory", 512, 122880)
	c.RekogCPU = intKey("rekogCpu", 256, 16384)
	c.RekogMemory = intKey("rekogMemory", 512, 122880)
	checkSize := func(cpuKey, memKey string, cpu, mem int) {
		opts := FargateMemoryOptions(cpu)
		if opts == nil {
			bad(cpuKey, "%d is not a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192, 16384)", cpu)
			return
		}
		if !slices.Contains(opts, mem) {
			bad(memKey, "%d MiB is not valid with %s=%d on Fargate (%s); %s", mem, cpuKey, cpu,
				describeSizes(cpu), suggestPair(cpuKey, memKey, cpu, mem))
		}
	}
	checkSize("uploadCpu", "uploadMemory", c.UploadCPU, c.UploadMemory)
	checkSize("rekogCpu", "rekogMemory", c.RekogCPU, c.RekogMemory)
	c.DesiredCount = intKey("desiredCount", 1, 100)
	c.MaxCount = intKey("maxCount", 1, 100)
	if c.MaxCount < c.DesiredCount {
		bad("maxCount", "%d is less than desiredCount %d", c.MaxCount, c.DesiredCount)
	}
	if !slices.Contains(infra.NATModes, raw["natMode"]) {
		bad("natMode", "%q must be one of %s", raw["natMode"], strings.Join(infra.NATModes, ", "))
	}
	c.NATMode = raw["natMode"]
	c.LogRetentionDays = intKey("logRetentionDays", 1, 3653)
	if !slices.Contains(logRetentionValues, c.LogRetentionDays) {
		bad("logRetentionDays", "%d is not a CloudWatch Logs retention value %v", c.LogRetentionDays, logRetentionValues)
	}
	// Stage throttling cannot exceed the account-level throttle quota
	// (10,000 rps, burst 5,000): https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
	if f, err := strconv.ParseFloat(raw["apiThrottleRate"], 64); err != nil {
		bad("apiThrottleRate", "%q is not a number", raw["apiThrottleRate"])
	} else if f < 1 || f > 10000 {
		bad("apiThrottleRate", "%g is out of range 1..10000", f)
	} else {
		c.APIThrottleRate = f
	}
	c.APIThrottleBurst = intKey("apiThrottleBurst", 1, 5000)
	if n, err := strconv.ParseInt(raw["maxUploadBytes"], 10, 64); err != nil {
		bad("maxUploadBytes", "%q is not an integer", raw["maxUploadBytes"])
	} else if n < minUploadBytes || n > maxHTTPAPIPayload {
		bad("maxUploadBytes", "%d is out of range %d..%d (upload refuses less at start; at most the HTTP API payload limit)", n, minUploadBytes, maxHTTPAPIPayload)
	} else {
		c.MaxUploadBytes = n
	}
	if !namespacePattern.MatchString(raw["namespace"]) || len(raw["namespace"]) > 253 {
		bad("namespace", "%q must be a lowercase DNS name ending in .internal", raw["namespace"])
	}
	c.Namespace = raw["namespace"]
	c.ImageRetentionDays = intKey("imageRetentionDays", 1, 36500)
	if b, err := strconv.ParseBool(raw["containerInsights"]); err != nil {
		bad("containerInsights", "%q is not true or false", raw["containerInsights"])
	} else {
		c.ContainerInsights = b
	}
	loadCostKeys(raw, &c, bad, intKey)
	if len(errs) > 0 {
		return Config{}, configErrors(errs)
	}
	return c, nil
}

// fargateCPUs are the task CPU sizes Fargate offers, smallest first.
var fargateCPUs = []int{256, 512, 1024, 2048, 4096, 8192, 16384}

// describeSizes says which memory sizes cpu allows, e.g. "256 allows 512,
// 1024 or 2048 MiB" or "1024 allows 2048..8192 MiB in steps of 1024".
func describeSizes(cpu int) string {
	opts := FargateMemoryOptions(cpu)
	if len(opts) <= 3 {
		s := make([]string, len(opts))
		for i, m := range opts {
			s[i] = strconv.Itoa(m)
		}
		return fmt.Sprintf("%d allows %s or %s MiB", cpu, strings.Join(s[:len(s)-1], ", "), s[len(s)-1])
	}
	return fmt.Sprintf("%d allows %d..%d MiB in steps of %d", cpu, opts[0], opts[len(opts)-1], opts[1]-opts[0])
}

// suggestPair proposes a valid Fargate pair close to (cpu, mem): the
// smallest CPU size that allows mem, else the allowed memory for cpu
// nearest to mem.
func suggestPair(cpuKey, memKey string, cpu, mem int) string {
	for _, c := range fargateCPUs {
		if slices.Contains(FargateMemoryOptions(c), mem) {
			return fmt.Sprintf("for %d MiB set %s=%d", mem, cpuKey, c)
		}
	}
	opts := FargateMemoryOptions(cpu)
	best := opts[0]
	for _, m := range opts {
		if abs(m-mem) < abs(best-mem) {
			best = m
		}
	}
	return fmt.Sprintf("no CPU size allows %d MiB; try %s=%d", mem, memKey, best)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// loadStackConfig is loadConfig plus a check of names, every config key the
// stack sets (fully qualified, e.g. imagelabel:azCount): a key of this
// project's namespace that the program does not read is an error, most
// likely a typo, and reported with the nearest known key.
func loadStackConfig(get func(key string) (string, bool), names []string) (Config, error) {
	errs := unknownKeys(names)
	c, err := loadConfig(get)
	var ce configErrors
	if errors.As(err, &ce) {
		errs = append(errs, ce...)
	} else if err != nil {
		return Config{}, err
	}
	if len(errs) > 0 {
		return Config{}, configErrors(errs)
	}
	return c, nil
}

// unknownKeys returns one problem per key of the imagelabel namespace in
// names that configKeys does not define, sorted.
func unknownKeys(names []string) []string {
	var out []string
	for _, full := range slices.Sorted(slices.Values(names)) {
		short, ok := strings.CutPrefix(full, configNamespace+":")
		if !ok || knownKey(short) {
			continue
		}
		out = append(out, fmt.Sprintf("%s: unknown key; %s", full, suggestKey(short)))
	}
	return out
}

func knownKey(name string) bool {
	return slices.ContainsFunc(configKeys, func(k configKey) bool { return k.Name == name })
}

// suggestKey names the known key nearest to name ("did you mean azCount?"),
// or says where the keys are listed when none is near.
func suggestKey(name string) string {
	best, bestDist := "", 0
	lower := strings.ToLower(name)
	for _, k := range configKeys {
		d := editDistance(lower, strings.ToLower(k.Name))
		if len(lower) >= 4 && strings.HasPrefix(strings.ToLower(k.Name), lower) {
			d = 0 // a key cut short (uploadMem) is that key
		}
		if best == "" || d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	// Up to a third of the name mistyped still reads as the same word.
	if bestDist <= max(2, len(best)/3) {
		return "did you mean " + best + "?"
	}
	return "the keys are listed by `go run . plan --help`"
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// configNames returns the keys of the stack config the Pulumi CLI passes to
// the program as a JSON object in PULUMI_CONFIG (what ctx.GetConfig reads;
// the SDK offers no way to list them).
func configNames(envConfig string) []string {
	var m map[string]any
	if json.Unmarshal([]byte(envConfig), &m) != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// emailPattern is a deliberately loose address check (one @, a dot in the
// domain, no spaces): AWS Budgets validates the address itself; this only
// catches a key set to something that is plainly not an address.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// loadCostKeys reads spot, spotOnDemandBase, monthlyBudgetUSD and
// budgetEmail into c, reporting bad values through bad.
func loadCostKeys(raw map[string]string, c *Config, bad func(key, format string, args ...any), intKey func(key string, lo, hi int) int) {
	if b, err := strconv.ParseBool(raw["spot"]); err != nil {
		bad("spot", "%q is not true or false", raw["spot"])
	} else {
		c.Spot = b
	}
	// Fargate Spot runs only Linux tasks on X86_64 ("Fargate capacity
	// provider considerations"):
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
	if c.Spot && c.CPUArchitecture == "arm64" {
		bad("spot", "true needs cpuArchitecture x86_64: Fargate Spot does not run arm64 tasks (set imagelabel:cpuArchitecture to x86_64, or spot to false)")
	}
	c.SpotOnDemandBase = intKey("spotOnDemandBase", 0, 100)
	budget, email := raw["monthlyBudgetUSD"], raw["budgetEmail"]
	switch {
	case budget == "" && email == "":
		return
	case budget == "":
		bad("monthlyBudgetUSD", "is empty but budgetEmail is set: set both or neither")
		return
	case email == "":
		bad("budgetEmail", "is empty but monthlyBudgetUSD is set: set both or neither")
		return
	}
	if f, err := strconv.ParseFloat(budget, 64); err != nil {
		bad("monthlyBudgetUSD", "%q is not a number", budget)
	} else if f <= 0 || f > 1e9 {
		bad("monthlyBudgetUSD", "%g must be a positive amount of US dollars", f)
	} else {
		c.MonthlyBudgetUSD = f
	}
	if !emailPattern.MatchString(email) || len(email) > 254 {
		bad("budgetEmail", "%q is not an email address", email)
	} else {
		c.BudgetEmail = email
	}
}

// GOARCH returns the Go architecture of the configured CPU architecture.
func (c Config) GOARCH() string {
	if c.CPUArchitecture == "x86_64" {
		return "amd64"
	}
	return "arm64"
}

// ECSArchitecture returns the ECS runtimePlatform cpuArchitecture value:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform
func (c Config) ECSArchitecture() string {
	if c.CPUArchitecture == "x86_64" {
		return "X86_64"
	}
	return "ARM64"
}
