// Package stackconfig owns a stack's configuration: the keys of the
// imagelabel namespace with their defaults, ranges and meanings (Keys, which
// `plan --help`, Pulumi.yaml and docs/deploy.md are held to), their
// validation into a typed Config, and the table of the regions and zones
// where the system can run (Regions, with its sources). It declares nothing
// and calls no AWS API: the program reads a Config and refuses at preview
// what this package says cannot work.
package stackconfig

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

// Namespace is the Pulumi config namespace of this project's keys
// (the project name in Pulumi.yaml).
const Namespace = "imagelabel"

// Config is the validated stack configuration. The program reads it once
// and hands plain values to the components; they never see the config
// object.
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
	Spot               bool    // spot: run the services on Fargate Spot
	SpotOnDemandBase   int     // spotOnDemandBase: tasks per service kept on regular Fargate when spot
	MonthlyBudgetUSD   float64 // monthlyBudgetUSD: AWS Budgets monthly cost limit; 0 = no budget
	BudgetEmail        string  // budgetEmail: who the budget notifies; set with monthlyBudgetUSD

	// Who may call the API and under which name (domain.go).
	APIAuth                string // apiAuth: APIAuthNone or APIAuthIAM
	DomainName             string // domainName: custom domain of the API; "" = the execute-api URL only
	DomainZone             string // domainZone: public hosted zone (name) that gets the certificate's and the alias records
	DomainCertificateArn   string // domainCertificateArn: the user's ACM certificate for DomainName (instead of DomainZone)
	DisableDefaultEndpoint bool   // disableDefaultEndpoint: turn off the execute-api endpoint (needs DomainName)
}

// Key documents one config key: its default, the values it accepts
// and its meaning. The table drives `plan --help` and the --set validation
// of the plan; TestStackFilesDocumentEveryKey and TestPulumiProjectFiles
// hold Pulumi.yaml, Pulumi.dev.yaml and the table of docs/deploy.md to it;
// TestConfigKeyRanges checks each Range against what Load accepts.
type Key struct {
	Name    string
	Default string
	// Range is what Load accepts, as `plan --help` prints it: "lo..hi"
	// for integers and numbers (checked at both ends by the test),
	// "a | b" for a closed set of values, else a short phrase.
	Range   string
	Meaning string
}

// Keys lists every key of the imagelabel namespace with its default.
var Keys = []Key{
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
	{"spot", "false", "true | false", "Run the services on Fargate Spot (about 70% cheaper, may be interrupted with a two-minute warning); arm64 or x86_64."},
	{"spotOnDemandBase", "0", "0..100", "With spot: tasks per service kept on regular (on-demand) Fargate before any Spot task."},
	{"monthlyBudgetUSD", "", "empty (no budget) or 0.01..1000000000", "Monthly AWS Budgets cost limit (USD) for this stack's tagged resources. Needs budgetEmail."},
	{"budgetEmail", "", "an email address, set together with monthlyBudgetUSD", "Email address the budget alerts at 80% forecast and 100% actual."},
	// Who may call the API and under which name (docs/deploy.md, "Signed requests and a custom domain").
	{"apiAuth", "none", "none | iam", "none: the API is open; iam: POST /upload and GET /labels/{key} need SigV4-signed requests from callers allowed execute-api:Invoke (stack output callerPolicy)."},
	{"domainName", "", "empty or a lowercase DNS name", "Custom domain of the API (apiUrl becomes https://<domainName>); needs domainZone or domainCertificateArn."},
	{"domainZone", "", "empty or a public hosted zone name that is domainName or a parent of it", "Route 53 hosted zone of this account: the program creates the ACM certificate (DNS validation) and the A and AAAA alias records in it."},
	{"domainCertificateArn", "", "empty or an ACM certificate ARN in the stack's region", "Your ACM certificate for domainName, instead of domainZone: you create the DNS record (stack output domainDnsRecord)."},
	{"disableDefaultEndpoint", "false", "true | false", "With domainName: turn off the execute-api URL so the API answers only at the domain."},
}

// Errors is every problem Load found, one a line.
type Errors []string

func (e Errors) Error() string {
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

// ValidNamespace reports whether domain may be the namespace key: a
// lowercase DNS name (at most 253 characters) under .internal.
func ValidNamespace(domain string) bool {
	return namespacePattern.MatchString(domain) && len(domain) <= 253
}

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

// Load reads every key through get (which returns the raw string and
// whether it was set), applies defaults and validates. It returns Errors,
// every problem found, each naming its key as imagelabel:<key>.
func Load(get func(key string) (string, bool)) (Config, error) {
	r := &reader{raw: map[string]string{}}
	for _, k := range Keys {
		r.raw[k.Name] = k.Default
		if v, ok := get(k.Name); ok {
			r.raw[k.Name] = strings.TrimSpace(v)
		}
	}
	var c Config
	r.taskKeys(&c)
	r.serviceKeys(&c)
	r.costKeys(&c)
	r.domainKeys(&c)
	if len(r.errs) > 0 {
		return Config{}, Errors(r.errs)
	}
	return c, nil
}

// reader holds the raw values of the keys and the problems found in them.
type reader struct {
	raw  map[string]string
	errs []string
}

// bad records a problem with key.
func (r *reader) bad(key, format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf("%s:%s: %s", Namespace, key, fmt.Sprintf(format, args...)))
}

// int reads key as an integer in lo..hi; out of range is reported and
// returned as read, not a number as 0.
func (r *reader) int(key string, lo, hi int) int {
	n, err := strconv.Atoi(r.raw[key])
	if err != nil {
		r.bad(key, "%q is not an integer", r.raw[key])
		return 0
	}
	if n < lo || n > hi {
		r.bad(key, "%d is out of range %d..%d", n, lo, hi)
	}
	return n
}

// bool reads key as true or false; anything else is reported as false.
func (r *reader) bool(key string) bool {
	b, err := strconv.ParseBool(r.raw[key])
	if err != nil {
		r.bad(key, "%q is not true or false", r.raw[key])
	}
	return b
}

// taskKeys reads the zones, the architecture, the task sizes and counts.
func (r *reader) taskKeys(c *Config) {
	// us-east-1 has the most AZs (6); deploy also checks the region's count.
	c.AZCount = r.int("azCount", 1, 6)
	switch r.raw["cpuArchitecture"] {
	case "arm64", "x86_64":
		c.CPUArchitecture = r.raw["cpuArchitecture"]
	default:
		r.bad("cpuArchitecture", "%q must be arm64 or x86_64", r.raw["cpuArchitecture"])
	}
	c.UploadCPU = r.int("uploadCpu", 256, 16384)
	c.UploadMemory = r.int("uploadMemory", 512, 122880)
	c.RekogCPU = r.int("rekogCpu", 256, 16384)
	c.RekogMemory = r.int("rekogMemory", 512, 122880)
	r.fargateSize("uploadCpu", "uploadMemory", c.UploadCPU, c.UploadMemory)
	r.fargateSize("rekogCpu", "rekogMemory", c.RekogCPU, c.RekogMemory)
	c.DesiredCount = r.int("desiredCount", 1, 100)
	c.MaxCount = r.int("maxCount", 1, 100)
	if c.MaxCount < c.DesiredCount {
		r.bad("maxCount", "%d is less than desiredCount %d", c.MaxCount, c.DesiredCount)
	}
}

// fargateSize reports a (cpu, mem) pair Fargate does not offer, with the
// sizes cpu allows and a pair that would work.
func (r *reader) fargateSize(cpuKey, memKey string, cpu, mem int) {
	opts := FargateMemoryOptions(cpu)
	if opts == nil {
		r.bad(cpuKey, "%d is not a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192, 16384)", cpu)
		return
	}
	if !slices.Contains(opts, mem) {
		r.bad(memKey, "%d MiB is not valid with %s=%d on Fargate (%s); %s", mem, cpuKey, cpu,
			describeSizes(cpu), suggestPair(cpuKey, memKey, cpu, mem))
	}
}

// serviceKeys reads egress, logs, the API, upload's limit, the namespace,
// image retention and Container Insights.
func (r *reader) serviceKeys(c *Config) {
	raw := r.raw
	if !slices.Contains(infra.NATModes, raw["natMode"]) {
		r.bad("natMode", "%q must be one of %s", raw["natMode"], strings.Join(infra.NATModes, ", "))
	}
	c.NATMode = raw["natMode"]
	c.LogRetentionDays = r.int("logRetentionDays", 1, 3653)
	if !slices.Contains(logRetentionValues, c.LogRetentionDays) {
		r.bad("logRetentionDays", "%d is not a CloudWatch Logs retention value %v", c.LogRetentionDays, logRetentionValues)
	}
	// Stage throttling cannot exceed the account-level throttle quota
	// (10,000 rps, burst 5,000): https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
	if f, err := strconv.ParseFloat(raw["apiThrottleRate"], 64); err != nil {
		r.bad("apiThrottleRate", "%q is not a number", raw["apiThrottleRate"])
	} else if f < 1 || f > 10000 {
		r.bad("apiThrottleRate", "%g is out of range 1..10000", f)
	} else {
		c.APIThrottleRate = f
	}
	c.APIThrottleBurst = r.int("apiThrottleBurst", 1, 5000)
	if n, err := strconv.ParseInt(raw["maxUploadBytes"], 10, 64); err != nil {
		r.bad("maxUploadBytes", "%q is not an integer", raw["maxUploadBytes"])
	} else if n < minUploadBytes || n > maxHTTPAPIPayload {
		r.bad("maxUploadBytes", "%d is out of range %d..%d (upload refuses less at start; at most the HTTP API payload limit)", n, minUploadBytes, maxHTTPAPIPayload)
	} else {
		c.MaxUploadBytes = n
	}
	if !ValidNamespace(raw["namespace"]) {
		r.bad("namespace", "%q must be a lowercase DNS name ending in .internal", raw["namespace"])
	}
	c.Namespace = raw["namespace"]
	c.ImageRetentionDays = r.int("imageRetentionDays", 1, 36500)
	c.ContainerInsights = r.bool("containerInsights")
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

// LoadStack is Load plus a check of names, every config key the
// stack sets (fully qualified, e.g. imagelabel:azCount): a key of this
// project's namespace that the program does not read is an error, most
// likely a typo, and reported with the nearest known key.
func LoadStack(get func(key string) (string, bool), names []string) (Config, error) {
	errs := unknownKeys(names)
	c, err := Load(get)
	var ce Errors
	if errors.As(err, &ce) {
		errs = append(errs, ce...)
	} else if err != nil {
		return Config{}, err
	}
	if len(errs) > 0 {
		return Config{}, Errors(errs)
	}
	return c, nil
}

// unknownKeys returns one problem per key of the imagelabel namespace in
// names that Keys does not define, sorted.
func unknownKeys(names []string) []string {
	var out []string
	for _, full := range slices.Sorted(slices.Values(names)) {
		short, ok := strings.CutPrefix(full, Namespace+":")
		if !ok || IsKey(short) {
			continue
		}
		out = append(out, fmt.Sprintf("%s: unknown key; %s", full, Suggest(short)))
	}
	return out
}

// IsKey reports whether name is a key of Keys (without the namespace).
func IsKey(name string) bool {
	return slices.ContainsFunc(Keys, func(k Key) bool { return k.Name == name })
}

// Suggest names the known key nearest to name ("did you mean azCount?"),
// or says where the keys are listed when none is near.
func Suggest(name string) string {
	best, bestDist := "", 0
	lower := strings.ToLower(name)
	for _, k := range Keys {
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

// NamesIn returns the keys of the stack config the Pulumi CLI passes to
// the program as a JSON object in PULUMI_CONFIG (what ctx.GetConfig reads;
// the SDK offers no way to list them).
func NamesIn(envConfig string) []string {
	var m map[string]any
	if json.Unmarshal([]byte(envConfig), &m) != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// Budget amounts the program accepts: the limit is sent with two decimals
// (cents), and at most a billion dollars.
const (
	minBudgetUSD = 0.01
	maxBudgetUSD = 1e9
)

// emailPattern is a deliberately loose address check (one @, a dot in the
// domain, no spaces): AWS Budgets validates the address itself; this only
// catches a key set to something that is plainly not an address.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// costKeys reads spot, spotOnDemandBase, monthlyBudgetUSD and budgetEmail.
func (r *reader) costKeys(c *Config) {
	raw := r.raw
	// Fargate Spot runs Linux tasks of either architecture: X86_64 on
	// platform 1.3.0 or later, ARM64 on 1.4.0 or later (the services run
	// LATEST, 1.4.0), since "Amazon ECS now supports AWS Graviton-based Spot
	// compute with AWS Fargate" (What's New, 6 September 2024:
	// https://aws.amazon.com/about-aws/whats-new/2024/09/amazon-ecs-graviton-based-spot-compute-fargate/)
	// and the API reference of CapacityProviderStrategyItem:
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
	// (Copies of the developer guide's "Fargate capacity provider
	// considerations" written before then still say X86_64 only.)
	c.Spot = r.bool("spot")
	c.SpotOnDemandBase = r.int("spotOnDemandBase", 0, 100)
	budget, email := raw["monthlyBudgetUSD"], raw["budgetEmail"]
	switch {
	case budget == "" && email != "":
		r.bad("monthlyBudgetUSD", "is empty but budgetEmail is set: set both or neither")
	case email == "" && budget != "":
		r.bad("budgetEmail", "is empty but monthlyBudgetUSD is set: set both or neither")
	}
	// A value that is set is checked even when its pair is missing: every
	// problem is reported at once, not one per attempt.
	r.budgetAmount(c, budget)
	r.budgetEmail(c, email)
}

// budgetAmount checks and sets monthlyBudgetUSD, unless it is empty.
func (r *reader) budgetAmount(c *Config, budget string) {
	if budget == "" {
		return
	}
	// The budget's limitAmount is sent in cents (two decimals, see
	// infra.NewBudget): an amount under one cent would be sent as "0.00",
	// a budget that every cost exceeds.
	if f, err := strconv.ParseFloat(budget, 64); err != nil {
		r.bad("monthlyBudgetUSD", "%q is not a number", budget)
	} else if f <= 0 || f > maxBudgetUSD {
		r.bad("monthlyBudgetUSD", "%g must be a positive amount of US dollars, at most %g", f, float64(maxBudgetUSD))
	} else if f < minBudgetUSD {
		r.bad("monthlyBudgetUSD", "%g is less than one cent: the budget amount is sent in cents, so it would be 0.00 USD; set at least %.2f (or leave the key empty for no budget)", f, minBudgetUSD)
	} else {
		c.MonthlyBudgetUSD = f
	}
}

// budgetEmail checks and sets budgetEmail, unless it is empty.
func (r *reader) budgetEmail(c *Config, email string) {
	if email == "" {
		return
	}
	if !emailPattern.MatchString(email) || len(email) > 254 {
		r.bad("budgetEmail", "%q is not an email address", email)
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
