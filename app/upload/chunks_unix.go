//go:build unix

package upload

import (
	"fmt"
	"syscall"
)

// reserveChunks maps n chunks of anonymous memory outside the Go heap. The
// image buffers are then neither garbage the collector paces itself on (a
// full budget of retained buffers would double the heap target under
// GOGC=100) nor counted by GOMEMLIMIT: the Go heap stays small and the
// buffers are exactly the budget. Pages cost memory only once written.
func reserveChunks(n int) ([]byte, error) {
	b, err := syscall.Mmap(-1, 0, n*chunkSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes of upload buffers: %w", n*chunkSize, err)
	}
	return b, nil
}
