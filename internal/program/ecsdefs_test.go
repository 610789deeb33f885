package program_test

// The second `pulumi up` must not replace the task definitions. Their
// containerDefinitions input forces replacement (ForceNew in the provider's
// schema), and the provider decides whether it changed by comparing the
// state it read back from ECS with the program's JSON, both normalised.
// This file ports that comparison and models what ECS adds to a container
// definition when it stores it, so a test can check, offline, that what the
// program sends survives the round trip unchanged.
//
// Provider source: hashicorp/terraform-provider-aws, the version bridged by
// pulumi-aws v6.83 (terraform-provider-aws v5; the last v5 release is
// v5.100.0, and the functions below read the same in every v5.7x-v6.x copy
// consulted, including the newest):
//   - internal/service/ecs/task_definition.go: "container_definitions" is
//     Required, ForceNew, with StateFunc (expandContainerDefinitions, then
//     orderContainers, orderEnvironmentVariables, orderSecrets,
//     compactArrays, flatten, NormalizeJsonString) and DiffSuppressFunc
//     (containerDefinitionsAreEquivalent(old, new, network_mode ==
//     "awsvpc")). resourceTaskDefinitionRead stores DescribeTaskDefinition's
//     containerDefinitions after orderContainers, orderEnvironmentVariables
//     and orderSecrets, flattened.
//   - internal/service/ecs/container_definitions.go:
//     containerDefinitionsAreEquivalent decodes both sides into the AWS SDK's
//     []types.ContainerDefinition (encoding/json), calls reduce(isAWSVPC),
//     re-encodes them and compares the documents (internal/json EqualBytes:
//     decode to any, reflect.DeepEqual). reduce orders containers,
//     environment and secrets by name, drops zero elements of object lists
//     (compactArrays), defaults essential to true and the health check's
//     interval 30, retries 3 and timeout 5, drops portMappings' protocol
//     "tcp", treats hostPort 0 as absent and, in awsvpc, an absent hostPort
//     as the containerPort, and turns these empty lists into absent ones:
//     command, credentialSpecs, dependsOn, dnsSearchDomains, dnsServers,
//     dockerSecurityOptions, entryPoint, environment, environmentFiles,
//     extraHosts, links, mountPoints, portMappings, resourceRequirements,
//     secrets, systemControls, ulimits, volumesFrom. Nothing else: not
//     linuxParameters.capabilities.add/drop, not logConfiguration's
//     secretOptions, not versionConsistency.
//
// The types are the real AWS SDK ones (github.com/aws/aws-sdk-go-v2/service/
// ecs/types, as the provider uses), so a field the SDK does not know is
// dropped here exactly as there.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type containerDefs = []ecstypes.ContainerDefinition

// decodeDefs is the provider's tfjson.DecodeFromString into the SDK types.
// strict also refuses a key the SDK type does not have: the provider would
// drop it silently, so ECS would never see it and the program would be
// sending something it does not get.
func decodeDefs(s string, strict bool) (containerDefs, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	if strict {
		dec.DisallowUnknownFields()
	}
	var defs containerDefs
	if err := dec.Decode(&defs); err != nil {
		return nil, err
	}
	return defs, nil
}

// encodeDefs is tfjson.EncodeToBytes: encoding/json of the SDK types (no
// json tags, so Go field names; nil slices and pointers are null).
func encodeDefs(defs containerDefs) ([]byte, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(defs); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// compactArray drops zero elements (the provider's compactArray with
// internal/types IsZero).
func compactArray[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return s
	}
	out := S{}
	for _, e := range s {
		if !reflect.ValueOf(e).IsZero() {
			out = append(out, e)
		}
	}
	return out
}

func compactArrays(cd containerDefs) {
	for i, def := range cd {
		cd[i].DependsOn = compactArray(def.DependsOn)
		cd[i].Environment = compactArray(def.Environment)
		cd[i].EnvironmentFiles = compactArray(def.EnvironmentFiles)
		cd[i].ExtraHosts = compactArray(def.ExtraHosts)
		cd[i].MountPoints = compactArray(def.MountPoints)
		cd[i].PortMappings = compactArray(def.PortMappings)
		cd[i].ResourceRequirements = compactArray(def.ResourceRequirements)
		cd[i].Secrets = compactArray(def.Secrets)
		cd[i].SystemControls = compactArray(def.SystemControls)
		cd[i].Ulimits = compactArray(def.Ulimits)
		cd[i].VolumesFrom = compactArray(def.VolumesFrom)
	}
}

// orderDefs is orderContainers, orderEnvironmentVariables and orderSecrets.
func orderDefs(cd containerDefs) {
	sort.SliceStable(cd, func(i, j int) bool { return aws.ToString(cd[i].Name) < aws.ToString(cd[j].Name) })
	for i := range cd {
		env, sec := cd[i].Environment, cd[i].Secrets
		sort.SliceStable(env, func(a, b int) bool { return aws.ToString(env[a].Name) < aws.ToString(env[b].Name) })
		sort.SliceStable(sec, func(a, b int) bool { return aws.ToString(sec[a].Name) < aws.ToString(sec[b].Name) })
	}
}

// reduce is the provider's containerDefinitions.reduce.
func reduce(cd containerDefs, isAWSVPC bool) {
	orderDefs(cd)
	compactArrays(cd)
	for i, def := range cd {
		if def.Essential == nil {
			cd[i].Essential = aws.Bool(true)
		}
		if hc := def.HealthCheck; hc != nil {
			if hc.Interval == nil {
				hc.Interval = aws.Int32(30)
			}
			if hc.Retries == nil {
				hc.Retries = aws.Int32(3)
			}
			if hc.Timeout == nil {
				hc.Timeout = aws.Int32(5)
			}
		}
		for j, pm := range def.PortMappings {
			if pm.Protocol == ecstypes.TransportProtocolTcp {
				cd[i].PortMappings[j].Protocol = ""
			}
			if aws.ToInt32(pm.HostPort) == 0 {
				cd[i].PortMappings[j].HostPort = nil
			}
			if isAWSVPC && cd[i].PortMappings[j].HostPort == nil {
				cd[i].PortMappings[j].HostPort = cd[i].PortMappings[j].ContainerPort
			}
		}
		d := &cd[i]
		nilIfEmpty(&d.Command)
		nilIfEmpty(&d.CredentialSpecs)
		nilIfEmpty(&d.DependsOn)
		nilIfEmpty(&d.DnsSearchDomains)
		nilIfEmpty(&d.DnsServers)
		nilIfEmpty(&d.DockerSecurityOptions)
		nilIfEmpty(&d.EntryPoint)
		nilIfEmpty(&d.Environment)
		nilIfEmpty(&d.EnvironmentFiles)
		nilIfEmpty(&d.ExtraHosts)
		nilIfEmpty(&d.Links)
		nilIfEmpty(&d.MountPoints)
		nilIfEmpty(&d.PortMappings)
		nilIfEmpty(&d.ResourceRequirements)
		nilIfEmpty(&d.Secrets)
		nilIfEmpty(&d.SystemControls)
		nilIfEmpty(&d.Ulimits)
		nilIfEmpty(&d.VolumesFrom)
	}
}

func nilIfEmpty[E any](s *[]E) {
	if len(*s) == 0 {
		*s = nil
	}
}

// reduced returns def reduced and encoded, as containerDefinitionsAreEquivalent
// compares it.
func reduced(def string, isAWSVPC bool) ([]byte, error) {
	defs, err := decodeDefs(def, false)
	if err != nil {
		return nil, err
	}
	reduce(defs, isAWSVPC)
	return encodeDefs(defs)
}

// equivalent is containerDefinitionsAreEquivalent; it also returns both
// reduced documents for the failure message.
func equivalent(def1, def2 string, isAWSVPC bool) (bool, []byte, []byte, error) {
	b1, err := reduced(def1, isAWSVPC)
	if err != nil {
		return false, nil, nil, err
	}
	b2, err := reduced(def2, isAWSVPC)
	if err != nil {
		return false, nil, nil, err
	}
	var v1, v2 any
	if err := json.Unmarshal(b1, &v1); err != nil {
		return false, nil, nil, err
	}
	if err := json.Unmarshal(b2, &v2); err != nil {
		return false, nil, nil, err
	}
	return reflect.DeepEqual(v1, v2), b1, b2, nil
}

// plannedValue is the provider's StateFunc of container_definitions: what
// the diff compares the state with (the "new" side).
func plannedValue(t *testing.T, sent string) string {
	t.Helper()
	defs, err := decodeDefs(sent, false)
	if err != nil {
		t.Fatal(err)
	}
	compactArrays(defs) // expandContainerDefinitions
	orderDefs(defs)
	compactArrays(defs)
	b, err := json.Marshal(defs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ecsStores models what ECS returns from DescribeTaskDefinition for
// container definitions registered as defs (what the provider's create
// sends: the program's JSON decoded into the SDK types, zero list elements
// dropped). ECS adds, where the definition leaves them out:
//   - essential true, cpu 0 (cpu is a plain int32 in the SDK, so 0 is
//     absent already), and empty lists for environment, mountPoints,
//     volumesFrom, portMappings and systemControls: the provider's own
//     fixtures of API responses (container_definitions_test.go,
//     TestContainerDefinitionsAreEquivalent_basic, _arrays, _healthCheck)
//     and https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html
//   - portMappings' protocol "tcp" and, in awsvpc, hostPort equal to
//     containerPort: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
//   - the health check's interval 30, timeout 5 and retries 3; startPeriod
//     stays absent ("off" by default):
//     https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
//     and the provider's _healthCheck fixture (an API response without it).
//   - linuxParameters.capabilities: the list not given, as an empty list
//     (ECS stores {"add":[],"drop":["ALL"]} for {"drop":["ALL"]}; reported
//     in this project's issue 16 and by others, e.g.
//     braintrustdata/terraform-aws-braintrust-data-plane PR 335).
//   - the environment in an order of its own (the provider sorts it
//     because ECS does not keep it; its _arrays fixture is reversed).
//
// ECS does not add logConfiguration.secretOptions (absent in the provider's
// _healthCheck fixture of an awslogs container), ulimits, user, stopTimeout
// or versionConsistency when they are not given: a definition registered
// without versionConsistency is returned without it (the drift in
// terraform-aws-modules/terraform-aws-ecs issue 356 is between a module that
// always renders it and revisions registered without it).
func ecsStores(t *testing.T, defs containerDefs, isAWSVPC bool) containerDefs {
	t.Helper()
	b, err := json.Marshal(defs) // a deep copy
	if err != nil {
		t.Fatal(err)
	}
	var out containerDefs
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		d := &out[i]
		if d.Essential == nil {
			d.Essential = aws.Bool(true)
		}
		emptyIfNil(&d.Environment)
		emptyIfNil(&d.MountPoints)
		emptyIfNil(&d.VolumesFrom)
		emptyIfNil(&d.PortMappings)
		emptyIfNil(&d.SystemControls)
		for j := range d.PortMappings {
			pm := &d.PortMappings[j]
			if pm.Protocol == "" {
				pm.Protocol = ecstypes.TransportProtocolTcp
			}
			if pm.HostPort == nil {
				pm.HostPort = aws.Int32(0)
				if isAWSVPC {
					pm.HostPort = pm.ContainerPort
				}
			}
		}
		if hc := d.HealthCheck; hc != nil {
			if hc.Interval == nil {
				hc.Interval = aws.Int32(30)
			}
			if hc.Timeout == nil {
				hc.Timeout = aws.Int32(5)
			}
			if hc.Retries == nil {
				hc.Retries = aws.Int32(3)
			}
		}
		if lp := d.LinuxParameters; lp != nil && lp.Capabilities != nil {
			emptyIfNil(&lp.Capabilities.Add)
			emptyIfNil(&lp.Capabilities.Drop)
		}
		slices.Reverse(d.Environment)
	}
	return out
}

func emptyIfNil[E any](s *[]E) {
	if *s == nil {
		*s = []E{}
	}
}

// stateAfterRead is what resourceTaskDefinitionRead stores from ECS's
// answer (the "old" side of the diff).
func stateAfterRead(t *testing.T, described containerDefs) string {
	t.Helper()
	orderDefs(described)
	b, err := json.Marshal(described)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonDiff lists the paths where two JSON documents differ.
func jsonDiff(a, b []byte) []string {
	var va, vb any
	_ = json.Unmarshal(a, &va)
	_ = json.Unmarshal(b, &vb)
	var out []string
	var walk func(path string, x, y any)
	walk = func(path string, x, y any) {
		mx, okx := x.(map[string]any)
		my, oky := y.(map[string]any)
		if okx && oky {
			keys := maps.Clone(mx)
			maps.Copy(keys, my)
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				walk(path+"."+k, mx[k], my[k])
			}
			return
		}
		ax, okx := x.([]any)
		ay, oky := y.([]any)
		if okx && oky && len(ax) == len(ay) {
			for i := range ax {
				walk(fmt.Sprintf("%s[%d]", path, i), ax[i], ay[i])
			}
			return
		}
		if !reflect.DeepEqual(x, y) {
			jx, _ := json.Marshal(x)
			jy, _ := json.Marshal(y)
			out = append(out, fmt.Sprintf("%s: ECS returns %s, the program sends %s", path, jx, jy))
		}
	}
	walk("", va, vb)
	return out
}

// TestContainerDefinitionsAsECSReturnsThem: for several configurations,
// every task definition's container definitions, registered with ECS and
// read back, compare equal to what the program sends, as the provider
// compares them; otherwise every `pulumi up` would replace the task
// definition (containerDefinitions forces replacement) and roll its service.
func TestContainerDefinitionsAsECSReturnsThem(t *testing.T) {
	for _, overrides := range [][]string{
		nil,
		{"cpuArchitecture=x86_64", "uploadCpu=1024", "uploadMemory=3072", "spot=true"},
		{"natMode=endpoints", "azCount=2", "maxUploadBytes=2048", "desiredCount=2", "maxCount=4"},
	} {
		p := model(t, overrides...)
		tds := p.Find(typTaskDef)
		if len(tds) != 2 {
			t.Fatalf("%v: %d task definitions; want 2", overrides, len(tds))
		}
		for _, td := range tds {
			sent, ok := td.Inputs["containerDefinitions"].(string)
			if !ok {
				t.Fatalf("%s: containerDefinitions is %T", td.Name, td.Inputs["containerDefinitions"])
			}
			isAWSVPC := td.Inputs["networkMode"] == "awsvpc"
			if !isAWSVPC {
				t.Errorf("%s: networkMode %v; the services use awsvpc", td.Name, td.Inputs["networkMode"])
			}
			// What the provider registers (expandContainerDefinitions).
			registered, err := decodeDefs(sent, true)
			if err != nil {
				t.Fatalf("%v %s: a key of the container definitions is not in the ECS API (the provider would drop it): %v", overrides, td.Name, err)
			}
			compactArrays(registered)
			old := stateAfterRead(t, ecsStores(t, registered, isAWSVPC))
			planned := plannedValue(t, sent)
			if old == planned {
				continue // no diff at all
			}
			eq, b1, b2, err := equivalent(old, planned, isAWSVPC)
			if err != nil {
				t.Fatal(err)
			}
			if !eq {
				t.Errorf("%v: %s would be replaced on every `pulumi up`: its container definitions differ, after the provider's normalisation, from what ECS returns:\n  %s",
					overrides, td.Name, strings.Join(jsonDiff(b1, b2), "\n  "))
			}
		}
	}
}

// TestProviderComparisonPort: the port above reproduces the provider's
// decisions on the cases its own tests pin (equal after ECS's defaults,
// hostPort only in awsvpc) and the one that broke this program (an absent
// capabilities list is not an empty one).
func TestProviderComparisonPort(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg, api string
		awsvpc   bool
		want     bool
	}{
		{"defaults ECS fills in", `[{"name":"a","image":"i","portMappings":[{"containerPort":80}],"healthCheck":{"command":["CMD","x"]}}]`,
			`[{"name":"a","image":"i","cpu":0,"essential":true,"environment":[],"mountPoints":[],"volumesFrom":[],"systemControls":[],` +
				`"portMappings":[{"containerPort":80,"hostPort":0,"protocol":"tcp"}],"healthCheck":{"command":["CMD","x"],"interval":30,"timeout":5,"retries":3}}]`,
			false, true},
		{"environment order", `[{"name":"a","environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]`,
			`[{"name":"a","environment":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]`, false, true},
		{"hostPort outside awsvpc", `[{"name":"a","portMappings":[{"containerPort":80,"hostPort":80}]}]`,
			`[{"name":"a","portMappings":[{"containerPort":80}]}]`, false, false},
		{"hostPort in awsvpc", `[{"name":"a","portMappings":[{"containerPort":80,"hostPort":80}]}]`,
			`[{"name":"a","portMappings":[{"containerPort":80}]}]`, true, true},
		{"capabilities.add absent vs empty", `[{"name":"a","linuxParameters":{"capabilities":{"drop":["ALL"]}}}]`,
			`[{"name":"a","linuxParameters":{"capabilities":{"add":[],"drop":["ALL"]}}}]`, true, false},
		{"a real change", `[{"name":"a","environment":[{"name":"A","value":"1"}]}]`,
			`[{"name":"a","environment":[{"name":"A","value":"2"}]}]`, true, false},
	} {
		got, _, _, err := equivalent(tc.api, tc.cfg, tc.awsvpc)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: equivalent = %v; want %v", tc.name, got, tc.want)
		}
	}
}
