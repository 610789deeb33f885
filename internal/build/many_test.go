package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBuildServices: one go command builds every service into its default
// context, with the digests Build gives each, and reports the packages it
// compiles (here the three main packages, just changed, so not cached).
func TestBuildServices(t *testing.T) {
	root := t.TempDir()
	writeFakeModule(t, root)
	services := Services()
	want := map[string]string{}
	for _, svc := range services {
		res, err := Build(context.Background(), Options{Root: root, Service: svc, OutDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		want[svc] = res.Digest
	}

	var compiled []string
	var last, lastTotal int
	var log bytes.Buffer
	results, err := BuildServices(context.Background(), Options{Root: root, Log: &log, Compiled: func(pkg string, n, total int) {
		compiled = append(compiled, pkg)
		last, lastTotal = n, total
	}}, services)
	if err != nil {
		t.Fatalf("BuildServices: %v", err)
	}
	for i, svc := range services {
		res := results[i]
		if res.Context != filepath.Join(root, ".build", svc+"-linux-"+runtime.GOARCH) {
			t.Errorf("%s context = %s; want the default directory", svc, res.Context)
		}
		checkContext(t, root, svc, runtime.GOARCH, res)
		if res.Digest != want[svc] {
			t.Errorf("%s digest = %s; Build gives %s (same flags must give the same bytes)", svc, res.Digest, want[svc])
		}
	}
	if strings.Count(log.String(), "go build") != 1 {
		t.Errorf("log = %q; want one go build for the three services", log.String())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(root, ".build", ".*tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary directories left behind: %v", leftovers)
	}
	// Build compiled the same packages with the same flags: only a change
	// makes the go command compile again (a change never made before: the
	// build cache outlives the test).
	again := fmt.Sprint(" ", time.Now().UnixNano())
	for _, svc := range services {
		main := filepath.Join(root, "app", svc, "cmd", svc, "main.go")
		b, _ := os.ReadFile(main)
		os.WriteFile(main, bytes.Replace(b, []byte(svc+`\n`), []byte(svc+again+`\n`), 1), 0o644)
	}
	compiled = nil
	if _, err := BuildServices(context.Background(), Options{Root: root, Compiled: func(pkg string, n, total int) {
		compiled = append(compiled, pkg)
		last, lastTotal = n, total
	}}, services); err != nil {
		t.Fatal(err)
	}
	slices.Sort(compiled)
	if !slices.Equal(compiled, []string{"fake/app/localaws/cmd/localaws", "fake/app/rekog/cmd/rekog", "fake/app/upload/cmd/upload"}) {
		t.Errorf("compiled %q; want the three changed main packages", compiled)
	}
	// go list -deps: the three mains, os and what os needs.
	if last != 3 || lastTotal < 10 {
		t.Errorf("last progress call n=%d total=%d; want n=3 of a total counting the standard library's packages", last, lastTotal)
	}
}

func TestBuildServicesErrors(t *testing.T) {
	root := t.TempDir()
	writeFakeModule(t, root)
	broken := filepath.Join(t.TempDir(), "broken")
	writeFakeModule(t, broken)
	os.WriteFile(filepath.Join(broken, "app/rekog/cmd/rekog/main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	all := Services()
	for _, tt := range []struct {
		name     string
		opts     Options
		services []string
		want     []string
	}{
		{"service set", Options{Root: root, Service: "upload"}, all, []string{"must be empty"}},
		{"out dir set", Options{Root: root, OutDir: t.TempDir()}, all, []string{"must be empty"}},
		{"none", Options{Root: root}, nil, []string{"no services"}},
		{"unknown", Options{Root: root}, []string{"upload", "web"}, []string{`"web"`, "unknown service"}},
		{"compile error", Options{Root: broken, Compiled: func(string, int, int) {}}, all,
			[]string{"build localaws, rekog, upload linux/", "go build ./app/localaws/cmd/localaws ./app/rekog/cmd/rekog", "# fake/app/rekog/cmd/rekog", "undefinedThing"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildServices(context.Background(), tt.opts, tt.services)
			if err == nil {
				t.Fatalf("BuildServices(%+v, %v) succeeded; want an error", tt.opts, tt.services)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestProgressWriter: under -v, import paths are progress; the go
// command's other lines are kept for the error, even split across writes.
func TestProgressWriter(t *testing.T) {
	var rest bytes.Buffer
	var got []string
	totals := 0
	w := &progressWriter{rest: &rest, fn: func(pkg string, n, total int) {
		got = append(got, pkg)
		if n != len(got) || total != 42 {
			t.Errorf("call %d: n=%d total=%d; want n=%d total=42", len(got), n, total, len(got))
		}
	}, total: func() int { totals++; return 42 }}
	for _, chunk := range []string{"internal/goarch\nrun", "time\ngo: downloading example.com/m v1.0.0\n# fake/app/x\n",
		"app/x/main.go:3:15: undefined: y\nfake/app/x"} {
		w.Write([]byte(chunk))
	}
	w.flush()
	if want := []string{"internal/goarch", "runtime", "fake/app/x"}; !slices.Equal(got, want) {
		t.Errorf("progress = %q; want %q", got, want)
	}
	if want := "go: downloading example.com/m v1.0.0\n# fake/app/x\napp/x/main.go:3:15: undefined: y\n"; rest.String() != want {
		t.Errorf("kept = %q; want %q", rest.String(), want)
	}
	if totals != 1 {
		t.Errorf("total counted %d times; want once", totals)
	}
}
