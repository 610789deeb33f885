// Package plan is the offline plan: it runs the Pulumi program
// (imagelabel/internal/program) under mocks that answer like AWS, with a
// stack's config and without credentials, Docker or network, and records
// every resource it declares (type, name, parent, inputs, options) and the
// stack outputs as a Result. Tests of any configuration assert on a Result;
// the tree and the placeholder marking are how `go run . plan` shows it.
package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"imagelabel/infra"
	"imagelabel/internal/program"
	"imagelabel/internal/stackconfig"
)

// Project is the Pulumi project name (Pulumi.yaml), which is also the
// namespace of its config keys.
const Project = stackconfig.Namespace

// Mock identity of the offline plan and the tests: the documented example
// account, never a real one.
const (
	MockAccount = "123456789012"
	MockRegion  = "us-east-1"
)

// Resource is one declared resource as the plan reports it.
type Resource struct {
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	URN     string         `json:"urn"`
	Parent  string         `json:"parent"` // URN of the parent; "" for the stack
	Custom  bool           `json:"custom"` // false for components
	Inputs  map[string]any `json:"inputs"`
	Outputs map[string]any `json:"outputs"`
	// DependsOn lists the URNs this resource waits for: the resources its
	// inputs come from plus explicit DependsOn options (components expanded
	// to their children), as sent to the engine.
	DependsOn []string `json:"dependsOn,omitempty"`
	// IgnoreChanges lists inputs Pulumi leaves alone after creation (e.g. an
	// autoscaled service's desiredCount).
	IgnoreChanges []string `json:"ignoreChanges,omitempty"`
	// DeleteBeforeReplace: a replacement deletes the old resource before
	// creating the new one (for names that cannot exist twice).
	DeleteBeforeReplace bool `json:"deleteBeforeReplace,omitempty"`
	// CustomTimeouts are the create/update/delete timeouts given to the
	// provider, when set.
	CustomTimeouts *Timeouts `json:"customTimeouts,omitempty"`
	// Placeholders lists the outputs the mocks made up (ids, ARNs, URLs):
	// AWS assigns the real values at `pulumi up`. Set by the plan only.
	Placeholders []string `json:"placeholders,omitempty"`

	rawInputs resource.PropertyMap
}

// Timeouts are a resource's custom timeouts (Go durations as strings).
type Timeouts struct {
	Create string `json:"create,omitempty"`
	Update string `json:"update,omitempty"`
	Delete string `json:"delete,omitempty"`
}

// Result is the whole plan: every resource in declaration order and the
// stack outputs.
type Result struct {
	Resources []*Resource    `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
	// PlaceholderOutputs lists the stack outputs that hold a made-up value
	// (see Resource.Placeholders). Set by the plan only.
	PlaceholderOutputs []string `json:"placeholderOutputs,omitempty"`

	placeholders map[string]bool // made-up output strings, for WriteTree
}

// Find returns the resources of a type token, in declaration order.
func (p *Result) Find(typ string) []*Resource {
	var out []*Resource
	for _, r := range p.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Num reads a number input as recorded: a number (256) or a numeric string
// ("256", as task sizes are sent); anything else is 0.
func Num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

// ByURN returns the resource with that URN, or nil.
func (p *Result) ByURN(urn string) *Resource {
	for _, r := range p.Resources {
		if r.URN == urn {
			return r
		}
	}
	return nil
}

// fakeBuild is the builder of the plan and tests: no compiler, no Docker; a
// deterministic content-like tag per service and architecture.
func fakeBuild(service, goarch string) (infra.ImageSource, error) {
	dir := filepath.Join(".build", service+"-linux-"+goarch)
	return infra.ImageSource{
		Context:    dir,
		Dockerfile: filepath.Join(dir, "Dockerfile"),
		Tag:        infra.ShortHash(12, "image", service, goarch),
	}, nil
}

// Model runs the program under mocks with the given stack config (keys
// fully qualified, e.g. imagelabel:azCount, aws:region) and returns what it
// declared.
func Model(stack string, config map[string]string) (*Result, error) {
	cfgJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	// The Go SDK reads the stack config from PULUMI_CONFIG (as set by the
	// Pulumi CLI); the mocked run reads it the same way.
	prev, had := os.LookupEnv(pulumi.EnvConfig)
	if err := os.Setenv(pulumi.EnvConfig, string(cfgJSON)); err != nil {
		return nil, fmt.Errorf("set %s: %w", pulumi.EnvConfig, err)
	}
	defer func() {
		// Restoring the caller's environment cannot meaningfully fail.
		if had {
			_ = os.Setenv(pulumi.EnvConfig, prev)
		} else {
			_ = os.Unsetenv(pulumi.EnvConfig)
		}
	}()

	rec := newRecorder(config["aws:region"])
	var (
		mu      sync.Mutex
		pending sync.WaitGroup
		outs    = map[string]any{}
	)
	// RunErr does not wait for applies nobody consumes, so each recording
	// apply is counted and awaited below.
	record := func(name string, v pulumi.StringOutput) {
		pending.Add(1)
		v.ApplyT(func(s string) string {
			defer pending.Done()
			mu.Lock()
			outs[name] = s
			mu.Unlock()
			return s
		})
	}
	if err := pulumi.RunErr(program.RunFunc(fakeBuild, record), pulumi.WithMocks(Project, stack, rec)); err != nil {
		// RunErr wraps the program's error in a list of one ("1 error
		// occurred"), which would stand above several config problems.
		var ce stackconfig.Errors
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, err
	}
	done := make(chan struct{})
	go func() { pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("stack outputs did not resolve")
	}
	mu.Lock()
	defer mu.Unlock()
	// Resources register concurrently; sort for a reproducible plan.
	sort.Slice(rec.resources, func(i, j int) bool { return rec.resources[i].URN < rec.resources[j].URN })
	return &Result{Resources: rec.resources, Outputs: outs}, nil
}

// ReadStackConfig reads the config: section of Pulumi.<stack>.yaml in dir.
// Keys without a namespace belong to the project (Pulumi's rule); secure
// values are reported as "[secret]". A missing file is explained: which
// stacks have a file in dir and how to make one.
func ReadStackConfig(dir, stack string) (map[string]string, error) {
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingStackError(dir, stack)
	}
	if err != nil {
		return nil, fmt.Errorf("read stack config: %w", err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	out := map[string]string{}
	for k, v := range doc.Config {
		if !strings.Contains(k, ":") {
			k = Project + ":" + k
		}
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["secure"]; ok {
				out[k] = "[secret]"
				continue
			}
			j, _ := json.Marshal(v)
			out[k] = string(j)
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// missingStackError says that stack has no config file in dir, which stacks
// do, and the two ways to make one.
func missingStackError(dir, stack string) error {
	files, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	var stacks []string
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		stacks = append(stacks, name)
	}
	have := "no stack has one yet"
	if len(stacks) > 0 {
		have = "stacks with a config file: " + strings.Join(stacks, ", ")
	}
	return fmt.Errorf("no config file Pulumi.%s.yaml for stack %q (%s).\n"+
		"Create the stack with `pulumi stack init %s` (then `pulumi config set KEY VALUE`),\n"+
		"or copy Pulumi.dev.yaml to Pulumi.%s.yaml to plan with the dev settings", stack, stack, have, stack, stack)
}
