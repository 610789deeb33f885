package build

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// writeFakeModule lays out a tiny stdlib-only module shaped like this repo
// (app/<svc>/Dockerfile, app/<svc>/cmd/<svc>), so Build is tested without
// depending on the real services or on anything but the Go toolchain.
func writeFakeModule(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{"go.mod": "module fake\n\ngo 1.22\n"}
	for _, svc := range Services() {
		files["app/"+svc+"/Dockerfile"] = "FROM scratch\nCOPY " + svc + " /" + svc + "\nENTRYPOINT [\"/" + svc + "\"]\n"
		files["app/"+svc+"/cmd/"+svc+"/main.go"] = "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"" + svc + "\\n\") }\n"
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestServices(t *testing.T) {
	got := Services()
	want := []string{"localaws", "rekog", "upload"}
	if !slices.Equal(got, want) {
		t.Fatalf("Services() = %v; want %v", got, want)
	}
	got[0] = "mutated"
	if Services()[0] != "localaws" {
		t.Fatal("Services() returned its internal slice; callers can corrupt it")
	}
}

// checkContext verifies the invariants of a Result: the context holds exactly
// the Dockerfile (a byte copy of the module's) and a static linux binary for
// arch, with fixed modes and times, and Digest/Tag match the files.
func checkContext(t *testing.T, root, svc, arch string, res *Result) {
	t.Helper()
	entries, err := os.ReadDir(res.Context)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"Dockerfile", svc}; !slices.Equal(names, want) {
		t.Errorf("context %s holds %v; want %v", res.Context, names, want)
	}
	if res.Dockerfile != filepath.Join(res.Context, "Dockerfile") || res.Binary != filepath.Join(res.Context, svc) {
		t.Errorf("Result paths = %q, %q; want inside %q", res.Dockerfile, res.Binary, res.Context)
	}
	src, _ := os.ReadFile(filepath.Join(root, "app", svc, "Dockerfile"))
	got, _ := os.ReadFile(res.Dockerfile)
	if !bytes.Equal(src, got) || len(got) == 0 {
		t.Errorf("context Dockerfile differs from app/%s/Dockerfile", svc)
	}
	f, err := elf.Open(res.Binary)
	if err != nil {
		t.Fatalf("binary %s is not ELF: %v", res.Binary, err)
	}
	defer f.Close()
	wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != wantMachine {
		t.Errorf("binary machine = %v; want %v", f.Machine, wantMachine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has program header %v: not static, would not run FROM scratch", p.Type)
		}
	}
	if s := f.Section(".symtab"); s != nil {
		t.Errorf("binary has a symbol table: -ldflags -s not applied")
	}
	for name, mode := range map[string]os.FileMode{svc: 0o755, "Dockerfile": 0o644} {
		fi, err := os.Stat(filepath.Join(res.Context, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode = %v; want %v", name, fi.Mode().Perm(), mode)
		}
		if !fi.ModTime().Equal(fixedMtime) {
			t.Errorf("%s mtime = %v; want %v", name, fi.ModTime(), fixedMtime)
		}
	}
	d, err := ContextDigest(res.Context)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != d || len(d) != 64 {
		t.Errorf("Digest = %q; ContextDigest = %q", res.Digest, d)
	}
	if res.Tag != res.Digest[:12] {
		t.Errorf("Tag = %q; want %q", res.Tag, res.Digest[:12])
	}
}

func TestBuildFakeModule(t *testing.T) {
	root := t.TempDir()
	writeFakeModule(t, root)
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			var log bytes.Buffer
			out := filepath.Join(t.TempDir(), "ctx")
			res, err := Build(context.Background(), Options{Root: root, Service: "rekog", GOARCH: arch, OutDir: out, Log: &log})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if res.Context != out {
				t.Errorf("Context = %q; want %q", res.Context, out)
			}
			checkContext(t, root, "rekog", arch, res)
			if !strings.Contains(log.String(), "rekog linux/"+arch) || !strings.Contains(log.String(), res.Tag) {
				t.Errorf("log = %q; want progress naming the service, arch and tag", log.String())
			}
			// Building again into the same context replaces the files and
			// gives the same digest.
			res2, err := Build(context.Background(), Options{Root: root, Service: "rekog", GOARCH: arch, OutDir: out})
			if err != nil {
				t.Fatalf("second Build: %v", err)
			}
			if res2.Digest != res.Digest {
				t.Errorf("rebuild digest %s != %s", res2.Digest, res.Digest)
			}
			// A changed source changes the digest.
			main := filepath.Join(root, "app/rekog/cmd/rekog/main.go")
			orig, _ := os.ReadFile(main)
			t.Cleanup(func() { os.WriteFile(main, orig, 0o644) })
			os.WriteFile(main, bytes.Replace(orig, []byte(`rekog\n`), []byte(`changed\n`), 1), 0o644)
			res3, err := Build(context.Background(), Options{Root: root, Service: "rekog", GOARCH: arch, OutDir: out})
			if err != nil {
				t.Fatalf("Build after change: %v", err)
			}
			if res3.Digest == res.Digest {
				t.Errorf("digest unchanged (%s) after the source changed", res.Digest)
			}
			os.WriteFile(main, orig, 0o644)
		})
	}
}

func TestBuildDefaultsFromWorkingDir(t *testing.T) {
	root := t.TempDir()
	writeFakeModule(t, root)
	t.Chdir(filepath.Join(root, "app", "upload")) // Root "" searches upward
	res, err := Build(context.Background(), Options{Service: "upload"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	want := filepath.Join(root, ".build", "upload-linux-"+runtime.GOARCH)
	if res.Context != want {
		t.Errorf("Context = %q; want %q", res.Context, want)
	}
	checkContext(t, root, "upload", runtime.GOARCH, res)
	if b, err := os.ReadFile(filepath.Join(root, ".build", ".gitignore")); err != nil || !strings.Contains(string(b), "*") {
		t.Errorf(".build/.gitignore = %q, %v; want one ignoring everything", b, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, ".build", ".*.tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary directories left behind: %v", leftovers)
	}
}

func TestBuildErrors(t *testing.T) {
	root := t.TempDir()
	writeFakeModule(t, root)
	// A service whose main does not compile.
	broken := filepath.Join(t.TempDir(), "broken")
	writeFakeModule(t, broken)
	os.WriteFile(filepath.Join(broken, "app/upload/cmd/upload/main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	// A module without Dockerfiles.
	nodf := filepath.Join(t.TempDir(), "nodf")
	writeFakeModule(t, nodf)
	os.Remove(filepath.Join(nodf, "app/upload/Dockerfile"))
	// An out dir holding a foreign file.
	dirty := t.TempDir()
	os.WriteFile(filepath.Join(dirty, "secret.txt"), []byte("x"), 0o600)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name string
		ctx  context.Context
		opts Options
		want []string // substrings of the error
	}{
		{"unknown service", nil, Options{Root: root, Service: "web"}, []string{`"web"`, "unknown service"}},
		{"empty service", nil, Options{Root: root}, []string{"unknown service"}},
		{"path in service", nil, Options{Root: root, Service: "../upload"}, []string{"unknown service"}},
		{"unsupported arch", nil, Options{Root: root, Service: "upload", GOARCH: "386"}, []string{`"386"`, "unsupported GOARCH"}},
		{"32-bit arm", nil, Options{Root: root, Service: "upload", GOARCH: "arm"}, []string{"unsupported GOARCH"}},
		{"no go.mod", nil, Options{Root: t.TempDir(), Service: "upload"}, []string{"module root", "go.mod"}},
		{"no Dockerfile", nil, Options{Root: nodf, Service: "upload", OutDir: t.TempDir()}, []string{"read Dockerfile"}},
		{"compile error", nil, Options{Root: broken, Service: "upload", OutDir: t.TempDir()}, []string{"go build ./app/upload/cmd/upload", "undefinedThing"}},
		{"dirty out dir", nil, Options{Root: root, Service: "upload", OutDir: dirty}, []string{"unexpected entry", "secret.txt"}},
		{"canceled", canceled, Options{Root: root, Service: "upload", OutDir: t.TempDir()}, []string{"context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			res, err := Build(ctx, tt.opts)
			if err == nil {
				t.Fatalf("Build(%+v) = %+v, nil; want error", tt.opts, res)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Build(%+v) error = %q; want it to contain %q", tt.opts, err, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dirty, "upload")); err == nil {
		t.Error("Build wrote into an out dir it refused")
	}
}

func TestBuildWithoutGo(t *testing.T) {
	root := t.TempDir()
	writeFakeModule(t, root)
	t.Setenv("PATH", t.TempDir())
	_, err := Build(context.Background(), Options{Root: root, Service: "upload", OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "go command not found") {
		t.Fatalf("Build with no go in PATH: err = %v; want go command not found", err)
	}
}

func TestContextDigest(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		os.WriteFile(filepath.Join(d, "x"), []byte("1"), 0o644)
		os.WriteFile(filepath.Join(d, "y"), []byte("2"), 0o644)
	}
	da, err := ContextDigest(a)
	if err != nil {
		t.Fatal(err)
	}
	if db, _ := ContextDigest(b); da != db {
		t.Fatalf("same files, different digests: %s %s", da, db)
	}
	// Moving a byte from one file to the other, or renaming, changes it.
	os.WriteFile(filepath.Join(b, "x"), []byte("12"), 0o644)
	os.WriteFile(filepath.Join(b, "y"), []byte(""), 0o644)
	if db, _ := ContextDigest(b); da == db {
		t.Errorf("digest ignores file boundaries: %s", da)
	}
	c := t.TempDir()
	os.WriteFile(filepath.Join(c, "x"), []byte("1"), 0o644)
	os.WriteFile(filepath.Join(c, "z"), []byte("2"), 0o644)
	if dc, _ := ContextDigest(c); da == dc {
		t.Errorf("digest ignores file names: %s", da)
	}
	os.Mkdir(filepath.Join(c, "sub"), 0o755)
	if _, err := ContextDigest(c); err == nil {
		t.Error("ContextDigest accepted a subdirectory")
	}
	if _, err := ContextDigest(filepath.Join(c, "missing")); err == nil {
		t.Error("ContextDigest accepted a missing dir")
	}
}

// TestReproducibleAcrossPathsAndCaches builds the same source from two
// checkouts at different paths, the second with an empty build cache, and
// wants identical bytes: -trimpath and -buildid= must leave no trace of the
// machine, the directory or the cache in the binary.
func TestReproducibleAcrossPathsAndCaches(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("recompiles the runtime with an empty cache; skipped under -short")
	}
	r1 := filepath.Join(t.TempDir(), "one")
	r2 := filepath.Join(t.TempDir(), "some", "other", "checkout")
	writeFakeModule(t, r1)
	writeFakeModule(t, r2)
	res1, err := Build(context.Background(), Options{Root: r1, Service: "localaws", GOARCH: "arm64", OutDir: filepath.Join(t.TempDir(), "a")})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-race") // must not reach the build
	res2, err := Build(context.Background(), Options{Root: r2, Service: "localaws", GOARCH: "arm64", OutDir: filepath.Join(t.TempDir(), "b")})
	if err != nil {
		t.Fatal(err)
	}
	if res1.Digest != res2.Digest {
		t.Fatalf("digests differ across paths/caches: %s vs %s", res1.Digest, res2.Digest)
	}
}
