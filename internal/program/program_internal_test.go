package program

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/stackconfig"
)

func TestRelPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(wd, ".build", "upload-linux-arm64")
	outside := filepath.Join(filepath.Dir(wd), "elsewhere")
	for _, tt := range []struct{ in, want string }{
		{inside, filepath.Join(".build", "upload-linux-arm64")},
		{outside, outside},
		{wd, "."},
	} {
		if got := relPath(tt.in); got != tt.want {
			t.Errorf("relPath(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestLogErrors: under the engine each config problem is its own error
// diagnostic (the CLI counts them), and the error says it was logged, through
// what pulumi.RunErr wraps it in.
func TestLogErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{stackconfig.Errors{"imagelabel:azCount: 9 is out of range 1..6", "imagelabel:natMode: x"}, []string{"imagelabel:azCount: 9 is out of range 1..6", "imagelabel:natMode: x"}},
		{errors.New("boom"), []string{"program failed: boom"}},
	} {
		var logged []string
		body := logErrors(func(*pulumi.Context) error { return tc.err }, func(_ *pulumi.Context, msg string) error {
			logged = append(logged, msg)
			return nil
		})
		err := pulumi.RunErr(body, pulumi.WithMocks(stackconfig.Namespace, "test", noResources{}))
		if !slices.Equal(logged, tc.want) {
			t.Errorf("%v: logged %q; want %q", tc.err, logged, tc.want)
		}
		var le loggedError
		if !errors.As(err, &le) || !reflect.DeepEqual(le.error, tc.err) {
			t.Errorf("%v: RunErr = %v; want a loggedError wrapping it", tc.err, err)
		}
	}
}

// TestStackLabel: stack names become distinct DNS labels.
func TestStackLabel(t *testing.T) {
	seen := map[string]string{}
	for _, stack := range []string{"dev", "prod", "Dev", "a.b", "a-b", "a_b", "-x-", strings.Repeat("s", 100), strings.Repeat("s", 99) + "t"} {
		l := stackLabel(stack)
		if len(l) > 63 || !stackconfig.ValidNamespace(l+".internal") {
			t.Errorf("stackLabel(%q) = %q; want a DNS label", stack, l)
		}
		if prev, ok := seen[l]; ok {
			t.Errorf("stackLabel(%q) = stackLabel(%q) = %q", stack, prev, l)
		}
		seen[l] = stack
	}
	if l := stackLabel("dev"); l != "dev" {
		t.Errorf("stackLabel(dev) = %q; want dev unchanged", l)
	}
	if _, err := stackNamespace("dev", strings.Repeat("a.", 124)+"internal"); err == nil || !strings.Contains(err.Error(), "imagelabel:namespace") {
		t.Errorf("stackNamespace(too long) = %v; want an imagelabel:namespace error", err)
	}
}

// TestBudgetName: short stacks keep the readable name; long ones stay
// distinct and within the limit.
func TestBudgetName(t *testing.T) {
	if got := budgetName("dev"); got != "imagelabel-dev" {
		t.Errorf("budgetName(dev) = %q", got)
	}
	a, b := budgetName(strings.Repeat("s", 100)), budgetName(strings.Repeat("s", 99)+"t")
	if len(a) > maxBudgetName || len(b) > maxBudgetName || a == b {
		t.Errorf("long stacks: %q (%d), %q (%d); want distinct names of at most %d", a, len(a), b, len(b), maxBudgetName)
	}
}

func TestCheckEndpointZones(t *testing.T) {
	names, ids := []string{"x-1a", "x-1b"}, []string{"x1-az2", "x1-az1"}
	offered := map[string][]string{}
	for _, s := range infra.InterfaceEndpointServices {
		offered[s] = names
	}
	if err := checkEndpointZones(names, ids, ids, offered); err != nil {
		t.Errorf("every service everywhere: %v", err)
	}
	offered["logs"] = []string{"x-1a"}
	if err := checkEndpointZones(names, ids, []string{"x1-az2"}, offered); err != nil {
		t.Errorf("logs missing only in an unused zone: %v", err)
	}
	if err := checkEndpointZones(names, ids, ids, offered); err == nil || !strings.Contains(err.Error(), "logs in x1-az1 (x-1b)") {
		t.Errorf("logs missing in a used zone: %v", err)
	}
}

// TestNATTypeOffered: a zone without the NAT instance type is refused,
// naming the key, the type and the zone (that the mock account offers it
// is TestNATInstanceOfferedInMockAccount's).
func TestNATTypeOffered(t *testing.T) {
	if err := natTypeOffered("use1-az4", []string{"use1-az1", "use1-az4"}); err != nil {
		t.Errorf("offered zone refused: %v", err)
	}
	err := natTypeOffered("use1-az3", []string{"use1-az1", "use1-az4"})
	for _, want := range []string{"imagelabel:natMode", infra.NATInstanceType, "use1-az3"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("zone without the type: %v; want a refusal naming %q", err, want)
		}
	}
}

// noResources is a mock monitor for programs that declare nothing.
type noResources struct{}

func (noResources) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("mock: unexpected call %s", args.Token)
}

func (noResources) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return "", nil, fmt.Errorf("mock: unexpected resource %s", args.Name)
}
