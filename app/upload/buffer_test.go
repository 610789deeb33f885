package upload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"io"
	"testing"
)

// TestChunkBufReadsAcrossChunks: every accessor of chunkBuf agrees with the
// same bytes held contiguously, also across chunk boundaries, and its chunks
// go back to the budget.
func TestChunkBufReadsAcrossChunks(t *testing.T) {
	data := bigPNG(3*chunkSize+123, 5)
	mem := newBudget(8 * chunkSize)
	c := newChunkBuf(mem)
	if _, err := c.Write(data[:10]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadFrom(bytes.NewReader(data[10:])); err != nil {
		t.Fatal(err)
	}
	if c.Len() != len(data) || mem.available() != 4*chunkSize {
		t.Fatalf("Len %d, free %d; want %d and 4 chunks", c.Len(), mem.available(), len(data))
	}
	for _, i := range []int{0, chunkSize - 3, chunkSize - 1, 2*chunkSize - 2, len(data) - 4} {
		if got, want := c.u32(i), binary.BigEndian.Uint32(data[i:]); got != want {
			t.Errorf("u32(%d) = %#x; want %#x", i, got, want)
		}
		if got, want := c.crc(i, len(data)), crc32.ChecksumIEEE(data[i:]); got != want {
			t.Errorf("crc(%d, end) = %#x; want %#x", i, got, want)
		}
	}
	if c.sha256() != sha256.Sum256(data) {
		t.Errorf("sha256 differs from the contiguous bytes'")
	}
	r := c.reader()
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, data) {
		t.Errorf("reader gave %d bytes, not the data", len(got))
	}
	if _, err := r.Seek(chunkSize-2, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(r)
	if !bytes.Equal(got, data[chunkSize-2:]) {
		t.Errorf("after Seek(%d): %d bytes, not the tail", chunkSize-2, len(got))
	}
	c.release()
	if mem.available() != 8*chunkSize || c.Len() != 0 {
		t.Errorf("after release: free %d, Len %d; want all 8 chunks and 0", mem.available(), c.Len())
	}
}

// TestChunkBufOverBudget: a buffer that needs more chunks than are free
// fails with errBudget, holding what it had until released.
func TestChunkBufOverBudget(t *testing.T) {
	mem := newBudget(2 * chunkSize)
	c := newChunkBuf(mem)
	_, err := c.ReadFrom(bytes.NewReader(make([]byte, 2*chunkSize+1)))
	if err != errBudget { //nolint:errorlint // the sentinel itself
		t.Fatalf("ReadFrom over the budget = %v; want errBudget", err)
	}
	if _, err := c.Write([]byte{1}); err != errBudget { //nolint:errorlint // the sentinel itself
		t.Errorf("Write after errBudget = %v; want errBudget", err)
	}
	c.release()
	if mem.available() != 2*chunkSize {
		t.Errorf("free after release = %d; want %d", mem.available(), 2*chunkSize)
	}
}
