package stackconfig_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// root is the repository root, where the Pulumi files and docs are.
const root = "../.."

// TestStackFilesDocumentEveryKey keeps Pulumi.yaml, Pulumi.dev.yaml and
// the configuration table of docs/deploy.md in step with stackconfig.Keys.
func TestStackFilesDocumentEveryKey(t *testing.T) {
	dev, err := plan.ReadStackConfig(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	project, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stackconfig.Keys {
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
	proj, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatalf("LoadProject(Pulumi.yaml) = %v", err)
	}
	if proj.Name.String() != plan.Project || proj.Runtime.Name() != "go" {
		t.Errorf("project %s runtime %s; want %s go", proj.Name, proj.Runtime.Name(), plan.Project)
	}
	for _, k := range stackconfig.Keys {
		ct, ok := proj.Config[plan.Project+":"+k.Name]
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
	if len(proj.Config) != len(stackconfig.Keys) {
		t.Errorf("Pulumi.yaml declares %d keys; want %d", len(proj.Config), len(stackconfig.Keys))
	}
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	if _, err := workspace.LoadProjectStack(sink, proj, filepath.Join(root, "Pulumi.dev.yaml")); err != nil {
		t.Errorf("LoadProjectStack(Pulumi.dev.yaml) = %v", err)
	}
}
