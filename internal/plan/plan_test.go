package plan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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

// TestModelReproducible: the same config gives the same plan, byte for byte,
// whatever order the resources registered in.
func TestModelReproducible(t *testing.T) {
	cfg := map[string]string{"aws:region": "us-east-1", "imagelabel:azCount": "2", "imagelabel:natMode": "instance"}
	var docs [2][]byte
	for i := range docs {
		res, err := Model("dev", cfg)
		if err != nil {
			t.Fatalf("Model: %v", err)
		}
		MarkPlaceholders(res, cfg["aws:region"])
		var b bytes.Buffer
		if err := WriteTree(&b, "dev", nil, res); err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = append(b.Bytes(), js...)
	}
	if !bytes.Equal(docs[0], docs[1]) {
		t.Errorf("two plans of one config differ:\n%s\n---\n%s", docs[0], docs[1])
	}
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
