//go:build !unix

package upload

// reserveChunks allocates n chunks on the Go heap where anonymous mappings
// are not available (the services run on Linux; this keeps local runs on
// other systems working).
func reserveChunks(n int) ([]byte, error) { return make([]byte, n*chunkSize), nil }
