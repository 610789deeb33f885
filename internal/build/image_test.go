package build_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	stdnet "net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"imagelabel/internal/build"
	"imagelabel/internal/dockertest"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// imageSpec is what each service's image must declare and how to run it.
type imageSpec struct {
	port   int
	health string            // path answering 200 when up
	env    map[string]string // enough configuration to start
	down   []string          // env for `-healthcheck` aimed at a closed port
}

var awsEnv = map[string]string{
	"BUCKET":                    "imagelabel-test",
	"AWS_REGION":                "us-east-1",
	"AWS_ENDPOINT_URL":          "http://localaws.imagelabel.internal:4566",
	"AWS_ACCESS_KEY_ID":         "local",
	"AWS_SECRET_ACCESS_KEY":     "local",
	"AWS_EC2_METADATA_DISABLED": "true",
}

func withEnv(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

var images = map[string]imageSpec{
	"upload": {8080, "/healthz",
		withEnv(awsEnv, "PORT", "8080", "REKOG_URL", "http://rekog.imagelabel.internal:9090"),
		[]string{"PORT=1"}},
	"rekog": {9090, "/healthz", withEnv(awsEnv, "PORT", "9090"), []string{"PORT=1"}},
	// localaws serves only loopback Hosts and the names it is told: the
	// services reach it by its network alias.
	"localaws": {4566, "/_localaws/healthz", map[string]string{"BUCKET": "imagelabel-test", "LOCALAWS_ALLOWED_HOSTS": "localaws.imagelabel.internal"},
		[]string{"LOCALAWS_ADDR=127.0.0.1:1"}},
}

// TestImages builds each service's image from its build context on the
// local engine and checks it the way ECS will use it: one layer holding only
// the binary (nothing pulled), non-root, the right port and entrypoint; run
// read-only without capabilities it serves its health endpoint, its
// -healthcheck passes (and fails when aimed at a closed port), and SIGTERM
// makes it exit 0 promptly.
//
// It fails rather than skips under CI=true when Docker is missing.
func TestImages(t *testing.T) {
	dockertest.Require(t)
	root := repoRoot(t)
	net := dockertest.NewNetwork(t, false)
	for _, svc := range build.Services() {
		t.Run(svc, func(t *testing.T) {
			spec := images[svc]
			res, err := build.Build(context.Background(), build.Options{Root: root, Service: svc, OutDir: filepath.Join(t.TempDir(), "ctx")})
			if err != nil {
				t.Fatal(err)
			}
			bin, err := os.Stat(res.Binary)
			if err != nil {
				t.Fatal(err)
			}
			ref := dockertest.BuildImage(t, res, svc)
			checkImage(t, ref, svc, spec.port, bin.Size())

			c := dockertest.Run(t, dockertest.RunOptions{
				Image: ref, Env: spec.env, Network: net, Publish: []int{spec.port}, Hardened: true,
			})
			url := "http://" + c.HostAddr(spec.port) + spec.health
			dockertest.WaitHTTP(t, c, url, 30*time.Second)

			var ci struct {
				Config struct{ User string }
				State  struct{ Running bool }
			}
			if err := c.Inspect(&ci); err != nil {
				t.Fatal(err)
			}
			if ci.Config.User != "65532:65532" || !ci.State.Running {
				t.Errorf("container user = %q, running = %v; want 65532:65532, true", ci.Config.User, ci.State.Running)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if out, code, err := c.Exec(ctx, nil, "/"+svc, "-healthcheck"); err != nil || code != 0 {
				t.Errorf("docker exec /%s -healthcheck = exit %d, %v; want 0\n%s", svc, code, err, out)
			}
			if out, code, err := c.Exec(ctx, spec.down, "/"+svc, "-healthcheck"); err != nil || code == 0 {
				t.Errorf("docker exec %v /%s -healthcheck (nothing listening) = exit %d, %v; want non-zero\n%s", spec.down, svc, code, err, out)
			}

			code, took, err := c.Signal("TERM", 20*time.Second)
			if err != nil {
				t.Fatalf("SIGTERM: %v\n%s", err, c.Logs())
			}
			if code != 0 || took > 10*time.Second {
				t.Errorf("after SIGTERM: exit %d in %s; want exit 0 within 10s\nlogs:\n%s", code, took, c.Logs())
			}
			t.Logf("%s: binary %d bytes, context digest %s, stopped on SIGTERM in %s", svc, bin.Size(), res.Digest, took.Round(time.Millisecond))
		})
	}
}

// checkImage asserts the image config and that it holds exactly one layer of
// about the binary's size: FROM scratch, nothing pulled, nothing else added.
func checkImage(t *testing.T, ref, svc string, port int, binSize int64) {
	t.Helper()
	var img struct {
		Size   int64
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]struct{}
			Labels       map[string]string
			Healthcheck  struct{ Test []string }
		}
		RootFS struct{ Layers []string }
	}
	if err := dockertest.InspectImage(ref, &img); err != nil {
		t.Fatal(err)
	}
	if len(img.RootFS.Layers) != 1 {
		t.Errorf("image has %d layers; want 1 (FROM scratch + the binary)", len(img.RootFS.Layers))
	}
	if img.Size < binSize || img.Size > binSize+64<<10 {
		t.Errorf("image size %d bytes; want the binary's %d plus < 64 KiB", img.Size, binSize)
	}
	if img.Config.User != "65532:65532" {
		t.Errorf("image user = %q; want 65532:65532 (non-root)", img.Config.User)
	}
	if !slices.Equal(img.Config.Entrypoint, []string{"/" + svc}) || len(img.Config.Cmd) != 0 {
		t.Errorf("entrypoint, cmd = %q, %q; want [/%s], none", img.Config.Entrypoint, img.Config.Cmd, svc)
	}
	if _, ok := img.Config.ExposedPorts[fmt.Sprintf("%d/tcp", port)]; !ok || len(img.Config.ExposedPorts) != 1 {
		t.Errorf("exposed ports = %v; want only %d/tcp", img.Config.ExposedPorts, port)
	}
	if want := []string{"CMD", "/" + svc, "-healthcheck"}; !slices.Equal(img.Config.Healthcheck.Test, want) {
		t.Errorf("healthcheck = %q; want %q", img.Config.Healthcheck.Test, want)
	}
	if img.Config.Labels["org.opencontainers.image.title"] != "imagelabel-"+svc {
		t.Errorf("labels = %v; want org.opencontainers.image.title=imagelabel-%s", img.Config.Labels, svc)
	}
	for k, v := range img.Config.Labels {
		if strings.Contains(k, "created") || strings.Contains(k, "revision") {
			t.Errorf("label %s=%s would make images differ between identical builds", k, v)
		}
	}
	t.Logf("%s image: %d bytes, layer %s", svc, img.Size, img.RootFS.Layers[0])
}

// TestImageLayerReproducible builds the upload image twice, from two
// separately built contexts and without the builder cache, and wants the same
// layer: identical binaries with fixed mtimes give identical image content.
func TestImageLayerReproducible(t *testing.T) {
	dockertest.Require(t)
	root := repoRoot(t)
	var layers []string
	for i := range 2 {
		res, err := build.Build(context.Background(), build.Options{Root: root, Service: "upload", OutDir: filepath.Join(t.TempDir(), fmt.Sprint("ctx", i))})
		if err != nil {
			t.Fatal(err)
		}
		ref := dockertest.BuildImage(t, res, "upload", "--no-cache")
		var img struct{ RootFS struct{ Layers []string } }
		if err := dockertest.InspectImage(ref, &img); err != nil {
			t.Fatal(err)
		}
		layers = append(layers, strings.Join(img.RootFS.Layers, ","))
	}
	if layers[0] != layers[1] || layers[0] == "" {
		t.Errorf("two builds of the same source gave layers %q and %q; want identical", layers[0], layers[1])
	}
}

// TestUploadImageDrainsOnSIGTERM proves graceful shutdown inside the image
// (where the binary is PID 1 with no init): an upload whose body is still
// arriving when SIGTERM lands is finished and answered, and only then does the
// container exit 0. localaws runs beside it as S3; rekog is deliberately
// absent, so the answer is the "stored but not labelled" error with the key.
func TestUploadImageDrainsOnSIGTERM(t *testing.T) {
	dockertest.Require(t)
	root := repoRoot(t)
	net := dockertest.NewNetwork(t, false)
	refs := map[string]string{}
	for _, svc := range []string{"localaws", "upload"} {
		res, err := build.Build(context.Background(), build.Options{Root: root, Service: svc, OutDir: filepath.Join(t.TempDir(), "ctx")})
		if err != nil {
			t.Fatal(err)
		}
		refs[svc] = dockertest.BuildImage(t, res, svc)
	}
	aws := dockertest.Run(t, dockertest.RunOptions{
		Image: refs["localaws"], Env: images["localaws"].env, Network: net,
		Aliases: []string{"localaws.imagelabel.internal"}, Hardened: true,
	})
	up := dockertest.Run(t, dockertest.RunOptions{
		Image: refs["upload"], Env: images["upload"].env, Network: net, Publish: []int{8080}, Hardened: true,
	})
	addr := up.HostAddr(8080)
	dockertest.WaitHTTP(t, up, "http://"+addr+"/healthz", 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, code, err := aws.Exec(ctx, nil, "/localaws", "-healthcheck"); err != nil || code != 0 {
		t.Fatalf("localaws not healthy: exit %d, %v\n%s", code, err, out)
	}

	// A multipart body holding a small valid PNG, sent in two halves.
	var img bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	if err := png.Encode(&img, m); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "drain.png")
	fw.Write(img.Bytes())
	mw.Close()
	head := fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Request-Id: drain-test\r\nConnection: close\r\n\r\n",
		addr, mw.FormDataContentType(), body.Len())
	half := body.Len() / 2

	conn, err := (&stdnet.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(append([]byte(head), body.Bytes()[:half]...)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the handler is now reading the body

	if _, err := dockertest.Docker(ctx, "kill", "--signal", "TERM", up.Name); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	var st struct{ State struct{ Running bool } }
	if err := up.Inspect(&st); err != nil || !st.State.Running {
		t.Fatalf("upload exited (err %v) with a request in flight; want it to drain first\n%s", err, up.Logs())
	}
	if _, err := conn.Write(body.Bytes()[half:]); err != nil {
		t.Fatalf("finishing the body after SIGTERM: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight upload got no response after SIGTERM: %v\nlogs:\n%s", err, up.Logs())
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)
	var got struct {
		Key   string
		Error *struct{ Code string }
	}
	if err := json.Unmarshal(respBody, &got); err != nil || !strings.HasPrefix(got.Key, "uploads/") || !strings.HasSuffix(got.Key, ".png") {
		t.Errorf("in-flight upload answered %s %s; want JSON naming the stored uploads/<sha256>.png key", resp.Status, respBody)
	}
	if resp.Header.Get("X-Request-Id") != "drain-test" {
		t.Errorf("X-Request-Id = %q; want drain-test echoed", resp.Header.Get("X-Request-Id"))
	}

	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	code, err := dockertest.Docker(wctx, "wait", up.Name)
	if err != nil || code != "0" {
		t.Errorf("upload after draining: exit %q, %v; want 0\n%s", code, err, up.Logs())
	}
	t.Logf("in-flight upload during SIGTERM answered %s %s", resp.Status, bytes.TrimSpace(respBody))
}
