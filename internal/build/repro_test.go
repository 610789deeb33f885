package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"imagelabel/internal/build"
)

// TestServicesReproducible builds every real service twice, for both Fargate
// architectures, into two different directories, and wants byte-identical
// contexts and equal digests: the deploy tags images by digest, so a
// non-reproducible build would redeploy unchanged services.
func TestServicesReproducible(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("cross-compiles every service twice for two architectures; skipped under -short")
	}
	root := repoRoot(t)
	for _, svc := range build.Services() {
		for _, arch := range []string{"amd64", "arm64"} {
			t.Run(svc+"/"+arch, func(t *testing.T) {
				var res [2]*build.Result
				for i := range res {
					r, err := build.Build(context.Background(), build.Options{
						Root: root, Service: svc, GOARCH: arch, OutDir: filepath.Join(t.TempDir(), "ctx"),
					})
					if err != nil {
						t.Fatal(err)
					}
					res[i] = r
				}
				if res[0].Digest != res[1].Digest || res[0].Tag != res[1].Tag {
					t.Errorf("digests differ: %s vs %s", res[0].Digest, res[1].Digest)
				}
				for _, name := range []string{"Dockerfile", svc} {
					a, errA := os.ReadFile(filepath.Join(res[0].Context, name))
					b, errB := os.ReadFile(filepath.Join(res[1].Context, name))
					if errA != nil || errB != nil || !bytes.Equal(a, b) {
						t.Errorf("%s differs between two builds (%v, %v)", name, errA, errB)
					}
				}
				fi, err := os.Stat(res[0].Binary)
				if err != nil {
					t.Fatal(err)
				}
				// A static Go binary with the AWS SDK is ~10-25 MB; far more
				// means debug info or the race runtime crept in.
				if fi.Size() > 40<<20 {
					t.Errorf("binary is %d bytes; want < 40 MiB (stripped, no race runtime)", fi.Size())
				}
				t.Logf("%s linux/%s: binary %d bytes, digest %s (equal across two builds)", svc, arch, fi.Size(), res[0].Digest)
			})
		}
	}
}
