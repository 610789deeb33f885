package stackconfig

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// getter returns a config getter over short keys.
func getter(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestConfigDefaults(t *testing.T) {
	c, err := Load(getter(nil))
	if err != nil {
		t.Fatalf("Load(defaults) = %v", err)
	}
	want := Config{
		AZCount: 1, CPUArchitecture: "arm64", UploadCPU: 256, UploadMemory: 512, RekogCPU: 256, RekogMemory: 512,
		DesiredCount: 1, MaxCount: 1, NATMode: "gateway", LogRetentionDays: 7, APIThrottleRate: 50, APIThrottleBurst: 100,
		MaxUploadBytes: 10485760, Namespace: "imagelabel.internal", ImageRetentionDays: 30, ContainerInsights: false,
		APIAuth: "none",
	}
	if c != want {
		t.Errorf("Load(defaults) = %+v; want %+v", c, want)
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
		_, err := Load(getter(kv))
		if err == nil {
			t.Errorf("Load(%v) = nil error; want error naming %s", kv, tc.wantKey)
			continue
		}
		if !strings.Contains(err.Error(), "imagelabel:"+tc.wantKey+":") {
			t.Errorf("Load(%v) = %q; want it to name imagelabel:%s", kv, err, tc.wantKey)
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
	c, err := Load(getter(good))
	if err != nil {
		t.Fatalf("Load(%v) = %v", good, err)
	}
	if c.APIThrottleRate != 5 || c.ECSArchitecture() != "X86_64" || c.GOARCH() != "amd64" || !c.ContainerInsights {
		t.Errorf("Load(good) = %+v", c)
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

// TestConfigErrorsFormat: every problem on its own line under a count that
// matches them.
func TestConfigErrorsFormat(t *testing.T) {
	_, err := Load(getter(map[string]string{"azCount": "9", "natMode": "none"}))
	want := "invalid config (2 errors):\n  imagelabel:azCount: 9 is out of range 1..6\n  imagelabel:natMode: \"none\" must be one of gateway, instance, endpoints"
	if err == nil || err.Error() != want {
		t.Errorf("Load(two problems) = %v; want\n%s", err, want)
	}
	_, err = Load(getter(map[string]string{"azCount": "9"}))
	if err == nil || !strings.HasPrefix(err.Error(), "invalid config (1 error):\n  imagelabel:azCount:") {
		t.Errorf("Load(one problem) = %v; want it headed (1 error)", err)
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
		_, err := Load(getter(tc.kv))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%v) = %v; want it to contain %q", tc.kv, err, tc.want)
		}
		// The suggestion itself is valid.
		if err != nil {
			fixed := map[string]string{}
			for k, v := range tc.kv {
				fixed[k] = v
			}
			k, v, _ := strings.Cut(tc.want[strings.LastIndex(tc.want, " ")+1:], "=")
			fixed[k] = v
			if _, err := Load(getter(fixed)); err != nil {
				t.Errorf("suggested %s=%s for %v, yet Load(%v) = %v", k, v, tc.kv, fixed, err)
			}
		}
	}
}

// TestUnknownKeys: a key of the project namespace the program does not read
// is an error with the nearest known key; other namespaces are not ours.
func TestUnknownKeys(t *testing.T) {
	names := []string{"aws:region", "aws:profile", "imagelabel:azcount", "imagelabel:uploadMem", "imagelabel:colour", "imagelabel:azCount"}
	_, err := LoadStack(getter(nil), names)
	want := "invalid config (3 errors):\n" +
		"  imagelabel:azcount: unknown key; did you mean azCount?\n" +
		"  imagelabel:colour: unknown key; the keys are listed by `go run . plan --help`\n" +
		"  imagelabel:uploadMem: unknown key; did you mean uploadMemory?"
	if err == nil || err.Error() != want {
		t.Errorf("LoadStack(%q) = %v; want\n%s", names, err, want)
	}
	if _, err := LoadStack(getter(nil), []string{"aws:region", "imagelabel:azCount"}); err != nil {
		t.Errorf("LoadStack(known keys) = %v", err)
	}
	// Unknown keys and bad values are counted together.
	_, err = LoadStack(getter(map[string]string{"azCount": "0"}), []string{"imagelabel:azcont"})
	if err == nil || !strings.HasPrefix(err.Error(), "invalid config (2 errors):\n  imagelabel:azcont: unknown key; did you mean azCount?\n  imagelabel:azCount:") {
		t.Errorf("LoadStack(unknown key and bad value) = %v", err)
	}
	// The names come from PULUMI_CONFIG, as the Pulumi CLI passes them.
	if got := NamesIn(`{"imagelabel:azCount":"2","aws:region":"eu-west-1"}`); !slices.Equal(got, []string{"aws:region", "imagelabel:azCount"}) {
		t.Errorf("NamesIn = %q", got)
	}
	if got := NamesIn(""); got != nil {
		t.Errorf("NamesIn(\"\") = %q; want none", got)
	}
}

// TestConfigKeyRanges keeps each key's documented Range true to Load:
// both ends of an "lo..hi" range are accepted and one step beyond each is
// refused; every value of an "a | b" set is accepted and others refused.
func TestConfigKeyRanges(t *testing.T) {
	// Keys whose every value needs another key set.
	companions := map[string]map[string]string{
		"disableDefaultEndpoint": {"domainName": "api.example.com", "domainZone": "example.com"},
	}
	accepts := func(key, v string) bool {
		cfg := map[string]string{key: v}
		for ck, cv := range companions[key] {
			cfg[ck] = cv
		}
		_, err := Load(getter(cfg))
		return err == nil || !strings.Contains(err.Error(), "imagelabel:"+key+":")
	}
	for _, k := range Keys {
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

// TestSpotConfig: Spot runs either architecture (Fargate Spot has run
// ARM64 Linux tasks since September 2024), with an on-demand base of 0..100.
func TestSpotConfig(t *testing.T) {
	c, err := Load(getter(map[string]string{"spot": "true"}))
	if err != nil || !c.Spot || c.CPUArchitecture != "arm64" {
		t.Errorf("spot=true with the default arm64 = %+v, %v; want it accepted", c, err)
	}
	for _, kv := range []map[string]string{{"spot": "yes"}, {"spotOnDemandBase": "-1"}, {"spotOnDemandBase": "101"}} {
		if _, err := Load(getter(kv)); err == nil {
			t.Errorf("Load(%v) = nil error", kv)
		}
	}
	c, err = Load(getter(map[string]string{"spot": "true", "cpuArchitecture": "x86_64", "spotOnDemandBase": "2"}))
	if err != nil || !c.Spot || c.SpotOnDemandBase != 2 {
		t.Errorf("Load(spot x86_64) = %+v, %v", c, err)
	}
}

func TestBudgetConfig(t *testing.T) {
	for _, tc := range []struct {
		kv      map[string]string
		wantKey string
	}{
		{map[string]string{"monthlyBudgetUSD": "20"}, "budgetEmail"},
		{map[string]string{"budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		{map[string]string{"monthlyBudgetUSD": "0", "budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		{map[string]string{"monthlyBudgetUSD": "-5", "budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		// Sent with two decimals, these would be budgets of 0.00 USD.
		{map[string]string{"monthlyBudgetUSD": "0.004", "budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		{map[string]string{"monthlyBudgetUSD": "0.009", "budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		{map[string]string{"monthlyBudgetUSD": "1e-9", "budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		{map[string]string{"monthlyBudgetUSD": "2e9", "budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		{map[string]string{"monthlyBudgetUSD": "lots", "budgetEmail": "ops@example.com"}, "monthlyBudgetUSD"},
		{map[string]string{"monthlyBudgetUSD": "20", "budgetEmail": "ops"}, "budgetEmail"},
		{map[string]string{"monthlyBudgetUSD": "20", "budgetEmail": "ops@example"}, "budgetEmail"},
		{map[string]string{"monthlyBudgetUSD": "20", "budgetEmail": "a b@example.com"}, "budgetEmail"},
	} {
		_, err := Load(getter(tc.kv))
		if err == nil || !strings.Contains(err.Error(), "imagelabel:"+tc.wantKey+":") {
			t.Errorf("Load(%v) = %v; want an error naming imagelabel:%s", tc.kv, err, tc.wantKey)
		}
	}
	// A bad value and a missing pair are both reported.
	for _, tc := range []struct {
		kv   map[string]string
		want Errors
	}{
		{map[string]string{"monthlyBudgetUSD": "-5"}, Errors{
			"imagelabel:budgetEmail: is empty but monthlyBudgetUSD is set: set both or neither",
			"imagelabel:monthlyBudgetUSD: -5 must be a positive amount of US dollars, at most 1e+09"}},
		{map[string]string{"budgetEmail": "ops"}, Errors{
			"imagelabel:monthlyBudgetUSD: is empty but budgetEmail is set: set both or neither",
			`imagelabel:budgetEmail: "ops" is not an email address`}},
	} {
		_, err := Load(getter(tc.kv))
		var ce Errors
		if !errors.As(err, &ce) || !slices.Equal(ce, tc.want) {
			t.Errorf("Load(%v) = %q; want both problems %q", tc.kv, err, tc.want)
		}
	}
	c, err := Load(getter(map[string]string{"monthlyBudgetUSD": "25.5", "budgetEmail": "ops@example.com"}))
	if err != nil || c.MonthlyBudgetUSD != 25.5 || c.BudgetEmail != "ops@example.com" {
		t.Errorf("Load(budget) = %+v, %v", c, err)
	}
	_, err = Load(getter(map[string]string{"monthlyBudgetUSD": "0.004", "budgetEmail": "ops@example.com"}))
	if err == nil || !strings.Contains(err.Error(), "less than one cent") || !strings.Contains(err.Error(), "0.01") {
		t.Errorf("Load(0.004 USD) = %v; want it to say the amount is under one cent and name 0.01", err)
	}
	if c, err := Load(getter(map[string]string{"monthlyBudgetUSD": "0.01", "budgetEmail": "ops@example.com"})); err != nil || c.MonthlyBudgetUSD != 0.01 {
		t.Errorf("Load(0.01 USD) = %+v, %v; one cent is the smallest budget", c, err)
	}
}
