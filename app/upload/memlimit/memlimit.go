// Package memlimit holds upload's memory arithmetic per task size, shared by
// the service (its defaults), the deploy (the task definition's
// UPLOAD_BUFFER_BYTES and GOMEMLIMIT) and the local container runs; it has no
// dependencies, so the Pulumi program does not link the service.
//
// Image bodies are buffered only within the byte budget UPLOAD_BUFFER_BYTES
// (outside the Go heap); everything else upload holds (runtime, connections,
// requests in progress, the SDK, logs) is admitted by count within
// OverheadBytes (the caps and their arithmetic are in package upload), as
// the memory and hostile-input tests check. An upload that does not fit the
// budget is answered 503 with Retry-After at once.
package memlimit

import "fmt"

const (
	// DefaultBufferBytes is UPLOAD_BUFFER_BYTES's default, the budget of the
	// default 512 MiB task (BufferBytes(512)).
	DefaultBufferBytes = 96 << 20
	// OverheadBytes is upload's allowance beside the image buffers.
	OverheadBytes = 64 << 20
	// ServiceConnectProxyMiB is the task memory ECS recommends leaving to
	// the Service Connect proxy container it adds to the task ("at least
	// 64 MiB of memory"):
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html
	ServiceConnectProxyMiB = 64
)

// BufferBytes returns UPLOAD_BUFFER_BYTES for a task of taskMiB:
// 3/16 of the task's memory (96 MiB of the default 512 MiB), so that upload's
// bound (Bound) stays well inside the task next to the proxy.
func BufferBytes(taskMiB int) int64 { return int64(taskMiB) << 20 * 3 / 16 }

// Bound returns upload's documented peak RSS bound with a buffer
// budget of bufferBytes: 160 MiB with the default budget.
func Bound(bufferBytes int64) int64 { return bufferBytes + OverheadBytes }

// GoMemLimit returns the GOMEMLIMIT of upload in a task of taskMiB:
// the task's memory less the proxy's share and the image buffers (which the
// Go runtime does not count, being outside its heap), less 10% headroom for
// what the limit does not cover (the binary's text, kernel socket buffers). The runtime then collects harder before the task nears its
// limit, instead of the task being OOM-killed with every upload in flight.
// https://pkg.go.dev/runtime/debug#SetMemoryLimit
func GoMemLimit(taskMiB int) string {
	avail := int64(taskMiB-ServiceConnectProxyMiB)<<20 - BufferBytes(taskMiB)
	return fmt.Sprintf("%dMiB", avail*9/10>>20)
}
