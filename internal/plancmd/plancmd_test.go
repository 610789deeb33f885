package plancmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// root is the repository root, where Pulumi.dev.yaml is.
const root = "../.."

// Type tokens the tests look for.
const (
	typSubnet      = "aws:ec2/subnet:Subnet"
	typScaleTarget = "aws:appautoscaling/target:Target"
	typImage       = "docker:index/image:Image"
)

// TestPlanJSON runs `plan --json` on the committed dev stack file and checks
// the output's shape.
func TestPlanJSON(t *testing.T) {
	var out bytes.Buffer
	if err := Run([]string{"--json", "--stack", "dev", "--set", "azCount=2", "--set", "imagelabel:maxCount=3"}, root, &out); err != nil {
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
			reg, _ := r["inputs"].(map[string]any)["registry"].(map[string]any)
			if got := reg["password"]; got != "[secret]" {
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
	if err := Run(nil, root, &tree); err != nil {
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
		err := Run(tc.args, root, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("plan %v = %v; want error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestPlanErrorFormat: every config problem comes in one format (no "1
// error occurred" list with blank lines around a region error), and a
// command-line mistake is a usage error whether it is a flag or a key.
func TestPlanErrorFormat(t *testing.T) {
	err := Run([]string{"--set", "aws:region=mars-1"}, root, io.Discard)
	want := "invalid config (1 error):\n  aws:region: unknown region \"mars-1\"; supported regions: "
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n\n") || strings.Contains(err.Error(), "lacks") {
		t.Errorf("plan --set aws:region=mars-1 = %q; want it to start %q, without blank lines or what it lacks", err, want)
	}
	err = Run([]string{"--set", "monthlyBudgetUSD=-5"}, root, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "invalid config (2 errors):\n") || !strings.Contains(err.Error(), "budgetEmail: is empty") ||
		!strings.Contains(err.Error(), "monthlyBudgetUSD: -5 must be a positive") {
		t.Errorf("plan --set monthlyBudgetUSD=-5 = %q; want both problems: no budgetEmail and a negative amount", err)
	}
	for _, args := range [][]string{{"--bogus"}, {"--set", "nope=1"}, {"--set", "azCount"}, {"extra"}} {
		err := Run(args, root, io.Discard)
		if !errors.Is(err, ErrUsage) || strings.HasPrefix(err.Error(), "usage: ") {
			t.Errorf("plan %q = %v; want a usage error (exit 2 like any unknown flag), not prefixed usage:", args, err)
		}
	}
	if err := Run([]string{"--set", "uploadMemory=4096"}, root, io.Discard); err == nil || errors.Is(err, ErrUsage) {
		t.Errorf("plan --set uploadMemory=4096 = %v; want a config error, not a usage error", err)
	}
}

// multi is an error list like the one pulumi.RunErr returns.
type multi []error

func (m multi) Error() string          { return fmt.Sprintf("%d error occurred:\n\t* %v\n\n", len(m), m[0]) }
func (m multi) WrappedErrors() []error { return m }

func TestUnlist(t *testing.T) {
	plain := errors.New("get region: no answer")
	if got := unlist(multi{plain}); got != plain { //nolint:errorlint // the very error, not one wrapping it
		t.Errorf("unlist(list of one) = %q; want the error itself", got)
	}
	if got := unlist(multi{plain, multi{errors.New("b")}}); got.Error() != "get region: no answer\nb" {
		t.Errorf("unlist(list of two) = %q; want them one a line", got)
	}
	if got := unlist(plain); got != plain { //nolint:errorlint // the very error
		t.Errorf("unlist(plain) = %q", got)
	}
}

// TestPlanUnknownKeys: a typo in the stack file or in --set is caught by the
// plan with the nearest key.
func TestPlanUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/Pulumi.typo.yaml", []byte("config:\n  aws:region: us-east-1\n  imagelabel:azcount: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Run([]string{"--stack", "typo"}, dir, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "(1 error):\n  imagelabel:azcount: unknown key; did you mean azCount?") {
		t.Errorf("plan with azcount in the stack file = %v; want an unknown-key error suggesting azCount", err)
	}
	err = Run([]string{"--set", "maxcount=2"}, root, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unknown config key maxcount; did you mean maxCount?") {
		t.Errorf("plan --set maxcount=2 = %v; want a suggestion of maxCount", err)
	}
}

// TestPlanMissingStack: a stack without a config file is explained.
func TestPlanMissingStack(t *testing.T) {
	err := Run([]string{"--stack", "prod"}, root, io.Discard)
	for _, want := range []string{"no config file Pulumi.prod.yaml", "stacks with a config file: dev", "pulumi stack init prod", "copy Pulumi.dev.yaml to Pulumi.prod.yaml"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("plan --stack prod = %v; want it to contain %q", err, want)
		}
	}
	err = Run([]string{"--stack", "dev"}, t.TempDir(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no stack has one yet") {
		t.Errorf("plan in an empty directory = %v; want it to say no stack has a config file", err)
	}
}

// TestPlanHelp: --help prints the flags and every key with its default and
// range, from stackconfig.Keys.
func TestPlanHelp(t *testing.T) {
	var out bytes.Buffer
	if err := Run([]string{"--help"}, root, &out); !errors.Is(err, ErrHelp) {
		t.Fatalf("plan --help = %v; want ErrHelp", err)
	}
	for _, want := range []string{"--json", "--stack string", "(default dev)", "--set key=value", "placeholders"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan --help lacks %q:\n%s", want, out.String())
		}
	}
	for _, k := range stackconfig.Keys {
		if want := fmt.Sprintf("  %s (default %s; %s)\n      %s\n", k.Name, k.Default, k.Range, k.Meaning); !strings.Contains(out.String(), want) {
			t.Errorf("plan --help lacks the entry of %s:\n%s", k.Name, want)
		}
	}
}

// TestPlanOtherStack: --stack reads that stack's file (plan.ReadStackConfig
// is tested beside it): the region reaches the mocks and the outputs, an
// unnamespaced key is the project's, and a secret namespace is refused.
func TestPlanOtherStack(t *testing.T) {
	dir := t.TempDir()
	stack := "config:\n  aws:region: eu-west-1\n  azCount: 2\n  imagelabel:containerInsights: true\n  imagelabel:namespace:\n    secure: AAABAKxyz\n"
	if err := os.WriteFile(dir+"/Pulumi.other.yaml", []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	// The plan uses that file: the region reaches the mocks and the outputs.
	var out bytes.Buffer
	if err := Run([]string{"--json", "--stack", "other", "--set", "namespace=x.internal"}, dir, &out); err != nil {
		t.Fatalf("plan --stack other: %v", err)
	}
	var doc plan.Result
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Outputs["region"] != "eu-west-1" || doc.Outputs["serviceConnectNamespace"] != "other.x.internal" {
		t.Errorf("plan --stack other outputs = %v", doc.Outputs)
	}
	if n := len(doc.Find(typSubnet)); n != 4 {
		t.Errorf("azCount: 2 (unnamespaced) gave %d subnets; want 4", n)
	}
	if err := Run([]string{"--stack", "other"}, dir, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "imagelabel:namespace") {
		t.Errorf("plan with a secret namespace = %v; want a namespace error", err)
	}
}

// TestPlanTreeMarksPlaceholders: the readable plan says its ids and URLs
// are made up, marks them, and echoes the --set overrides.
func TestPlanTreeMarksPlaceholders(t *testing.T) {
	var out bytes.Buffer
	if err := Run([]string{"--set", "azCount=2", "--set", "imagelabel:maxCount=3"}, root, &out); err != nil {
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
	if err := Run(nil, root, &none); err != nil || !strings.Contains(none.String(), "config: Pulumi.dev.yaml (no --set overrides)") {
		t.Errorf("plan without --set = %v; want the header to say no overrides", err)
	}

	// JSON: the same marks, as added fields.
	var js bytes.Buffer
	if err := Run([]string{"--json"}, root, &js); err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	var doc plan.Result
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(doc.PlaceholderOutputs, "apiUrl") || slices.Contains(doc.PlaceholderOutputs, "region") ||
		slices.Contains(doc.PlaceholderOutputs, "apiLogGroup") {
		t.Errorf("placeholderOutputs = %q; want apiUrl, not region or apiLogGroup", doc.PlaceholderOutputs)
	}
	for _, r := range doc.Find(typSubnet) {
		if !slices.Contains(r.Placeholders, "id") || !slices.Contains(r.Placeholders, "arn") || slices.Contains(r.Placeholders, "cidrBlock") {
			t.Errorf("subnet %s placeholders = %q; want id and arn, no input", r.Name, r.Placeholders)
		}
	}
}

func TestPlanPrintsCost(t *testing.T) {
	var out bytes.Buffer
	if err := Run([]string{"--json"}, root, &out); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cost struct {
			MonthlyUSD        *float64 `json:"monthlyUSD"`
			Per1000UploadsUSD *float64 `json:"per1000UploadsUSD"`
			Items             []struct {
				Resource   string   `json:"resource"`
				MonthlyUSD *float64 `json:"monthlyUSD"`
				Basis      string   `json:"basis"`
			} `json:"items"`
			Region     string `json:"region"`
			PricesAsOf string `json:"pricesAsOf"`
		} `json:"cost"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Cost
	if c.MonthlyUSD == nil || c.Per1000UploadsUSD == nil || c.Region != "us-east-1" || c.PricesAsOf == "" || len(c.Items) == 0 {
		t.Fatalf("cost = %+v", c)
	}
	for _, it := range c.Items {
		if it.Resource == "" || it.MonthlyUSD == nil || it.Basis == "" {
			t.Errorf("cost item %+v lacks a field", it)
		}
	}
	var tree bytes.Buffer
	if err := Run(nil, root, &tree); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"estimated monthly cost in us-east-1", "fixed per month", "per 1,000 uploads", "730 h x $0.045"} {
		if !strings.Contains(tree.String(), w) {
			t.Errorf("plan output lacks %q", w)
		}
	}
}

// TestPlanConfigErrorsFormat: the plan prints config problems as the
// config package formats them, not wrapped in Pulumi's "1 error occurred".
func TestPlanConfigErrorsFormat(t *testing.T) {
	want := "invalid config (2 errors):\n  imagelabel:azCount: 9 is out of range 1..6\n  imagelabel:natMode: \"none\" must be one of gateway, instance, endpoints"
	err := Run([]string{"--set", "azCount=9", "--set", "natMode=none"}, root, io.Discard)
	if err == nil || err.Error() != want {
		t.Errorf("plan with two problems = %v; want\n%s", err, want)
	}
}
