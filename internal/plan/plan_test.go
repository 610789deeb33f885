package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// TestReadStackConfig: unnamespaced keys belong to the project, secure
// values are not read, and a missing file names the stacks that have one.
func TestReadStackConfig(t *testing.T) {
	dir := t.TempDir()
	stack := "config:\n  aws:region: eu-west-1\n  azCount: 2\n  imagelabel:containerInsights: true\n  imagelabel:namespace:\n    secure: AAABAKxyz\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.other.yaml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadStackConfig(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"aws:region": "eu-west-1", "imagelabel:azCount": "2", "imagelabel:containerInsights": "true", "imagelabel:namespace": "[secret]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadStackConfig = %v; want %v", got, want)
	}
	_, err = ReadStackConfig(dir, "nosuch")
	for _, w := range []string{"Pulumi.nosuch.yaml", "stacks with a config file: other", "pulumi stack init nosuch"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("ReadStackConfig(nosuch) = %v; want it to say %q", err, w)
		}
	}
}

// reproducibleConfigs are the configurations TestModelReproducible plans
// repeatedly: the default and one per knob that declares other resources or
// renders other documents (NAT modes, zones, Spot, autoscaling, sizes, the
// budget with its secret-free tags, a stack name with a period).
var reproducibleConfigs = []struct {
	stack string
	cfg   map[string]string
}{
	{"dev", map[string]string{"aws:region": "us-east-1"}},
	{"dev", map[string]string{"aws:region": "us-east-1", "imagelabel:azCount": "2", "imagelabel:natMode": "instance"}},
	{"dev", map[string]string{"aws:region": "us-east-1", "imagelabel:azCount": "3", "imagelabel:natMode": "endpoints"}},
	{"prod", map[string]string{"aws:region": "us-east-1", "imagelabel:cpuArchitecture": "x86_64", "imagelabel:spot": "true",
		"imagelabel:spotOnDemandBase": "1", "imagelabel:desiredCount": "2", "imagelabel:maxCount": "5",
		"imagelabel:uploadCpu": "1024", "imagelabel:uploadMemory": "3072", "imagelabel:containerInsights": "true"}},
	{"team.prod", map[string]string{"aws:region": "us-east-1", "imagelabel:monthlyBudgetUSD": "25", "imagelabel:budgetEmail": "ops@example.com",
		"aws:defaultTags": `{"tags":{"imagelabel-stack":"team.prod"}}`}},
}

// TestModelReproducible: planning the same config again gives the same
// plan: the same resources in the same order, each with exactly the same
// inputs as sent to the engine (secrets and SDK bookkeeping included, not
// just the printable form), options, dependencies and outputs, and the same
// tree and JSON, byte for byte. Each config is planned three times, so
// anything that depends on map iteration, registration order or the clock
// has several chances to show.
func TestModelReproducible(t *testing.T) {
	for _, rc := range reproducibleConfigs {
		var first *Result
		var firstDoc []byte
		for run := range 3 {
			res, err := Model(rc.stack, rc.cfg)
			if err != nil {
				t.Fatalf("Model(%s, %v): %v", rc.stack, rc.cfg, err)
			}
			MarkPlaceholders(res, rc.cfg["aws:region"])
			var b bytes.Buffer
			if err := WriteTree(&b, rc.stack, nil, res); err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			doc := append(b.Bytes(), js...)
			if run == 0 {
				first, firstDoc = res, doc
				continue
			}
			if diffs := resultDiff(first, res); len(diffs) > 0 {
				t.Errorf("%s %v, run %d: the plan differs from the first:\n  %s", rc.stack, rc.cfg, run+1, strings.Join(diffs, "\n  "))
			} else if !bytes.Equal(firstDoc, doc) {
				t.Errorf("%s %v, run %d: tree or JSON differ:\n%s\n---\n%s", rc.stack, rc.cfg, run+1, firstDoc, doc)
			}
		}
	}
}

// resultDiff names what differs between two plans: the resource list, and
// per resource its inputs as sent (rawInputs), outputs and options.
func resultDiff(a, b *Result) []string {
	var out []string
	if len(a.Resources) != len(b.Resources) {
		return []string{fmt.Sprintf("%d resources, then %d", len(a.Resources), len(b.Resources))}
	}
	for i, ra := range a.Resources {
		rb := b.Resources[i]
		if ra.URN != rb.URN {
			out = append(out, fmt.Sprintf("resource %d: %s, then %s", i, ra.URN, rb.URN))
			continue
		}
		for _, k := range unionKeys(ra.rawInputs, rb.rawInputs) {
			if !reflect.DeepEqual(ra.rawInputs[k], rb.rawInputs[k]) {
				out = append(out, fmt.Sprintf("%s input %s: %v, then %v", ra.URN, k, ra.rawInputs[k], rb.rawInputs[k]))
			}
		}
		if !reflect.DeepEqual(ra.Outputs, rb.Outputs) {
			out = append(out, fmt.Sprintf("%s outputs differ", ra.URN))
		}
		if !reflect.DeepEqual(ra.DependsOn, rb.DependsOn) || !reflect.DeepEqual(ra.IgnoreChanges, rb.IgnoreChanges) ||
			ra.DeleteBeforeReplace != rb.DeleteBeforeReplace || !reflect.DeepEqual(ra.CustomTimeouts, rb.CustomTimeouts) || ra.Parent != rb.Parent {
			out = append(out, fmt.Sprintf("%s options differ", ra.URN))
		}
	}
	if !reflect.DeepEqual(a.Outputs, b.Outputs) {
		out = append(out, fmt.Sprintf("stack outputs %v, then %v", a.Outputs, b.Outputs))
	}
	return out
}

// unionKeys returns the keys of both maps, sorted.
func unionKeys(a, b resource.PropertyMap) []resource.PropertyKey {
	seen := map[resource.PropertyKey]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]resource.PropertyKey, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// TestModelFindAndByURN: the recorded resources are found by type and by
// URN, and children name their component's URN as parent.
func TestModelFindAndByURN(t *testing.T) {
	res, err := Model("dev", map[string]string{"aws:region": "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	subnets := res.Find("aws:ec2/subnet:Subnet")
	if len(subnets) != 2 {
		t.Fatalf("Find(subnet) = %d resources; want 2 (one AZ: public and private)", len(subnets))
	}
	for _, s := range subnets {
		if got := res.ByURN(s.URN); got != s {
			t.Errorf("ByURN(%s) = %v; want the subnet", s.URN, got)
		}
		parent := res.ByURN(s.Parent)
		if parent == nil || parent.Custom {
			t.Errorf("subnet %s parent %q: want a component", s.Name, s.Parent)
		}
	}
	if res.ByURN("urn:pulumi:dev::imagelabel::nosuch::x") != nil {
		t.Error("ByURN(unknown) found a resource")
	}
}
