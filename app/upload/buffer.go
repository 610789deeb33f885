package upload

import (
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"io"
	"sync"
)

// Images are buffered in fixed-size chunks taken from one byte budget per
// process, charged as bytes arrive: a request holds memory only for what it
// has actually received (never for what its Content-Length claims), buffers
// never double and copy as they grow, and the chunks go back to the budget as
// soon as the image is stored, before the labeling.
const (
	chunkShift = 16
	// chunkSize is small enough that a client trickling bytes holds little
	// (one chunk), large enough that a 10 MiB image is only 160 chunks.
	chunkSize = 1 << chunkShift
	chunkMask = chunkSize - 1
)

// errBudget is returned when the byte budget has no chunk left: the upload
// is answered 503 with Retry-After at once, never with memory growth.
var errBudget = errors.New("upload buffer budget exhausted")

// budget hands out the chunks images are buffered in, at most limit at
// once, carved from one region reserved on first use (see reserveChunks).
// Released chunks are reused, so the memory buffering ever takes is at most
// limit*chunkSize whatever the load.
type budget struct {
	mu     sync.Mutex
	region []byte
	next   int // chunks of region handed out at least once
	free   [][]byte
	inUse  int
	limit  int
}

// newBudget returns a budget of bytes (rounded down to whole chunks, at
// least one).
func newBudget(bytes int64) *budget {
	return &budget{limit: max(1, int(bytes>>chunkShift))}
}

// get returns a chunk, or false at once when all are in use (or the region
// could not be reserved).
func (b *budget) get() ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inUse >= b.limit {
		return nil, false
	}
	if n := len(b.free); n > 0 {
		b.inUse++
		c := b.free[n-1]
		b.free = b.free[:n-1]
		return c, true
	}
	if b.region == nil {
		r, err := reserveChunks(b.limit)
		if err != nil {
			return nil, false
		}
		b.region = r
	}
	b.inUse++
	c := b.region[b.next*chunkSize : (b.next+1)*chunkSize : (b.next+1)*chunkSize]
	b.next++
	return c, true
}

// put gives chunks back.
func (b *budget) put(chunks [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inUse -= len(chunks)
	b.free = append(b.free, chunks...)
}

// available returns the bytes not in use.
func (b *budget) available() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int64(b.limit-b.inUse) << chunkShift
}

// chunkBuf is one image's bytes in chunks of the budget. Every chunk but the
// last is full. Its methods read it as one byte string.
type chunkBuf struct {
	mem    *budget // nil for a buffer over caller-owned bytes (tests)
	chunks [][]byte
	n      int
	err    error // the first errBudget of Write or ReadFrom
}

func newChunkBuf(mem *budget) *chunkBuf { return &chunkBuf{mem: mem} }

// room returns the free tail of the last chunk, taking a new chunk from the
// budget when the last is full.
func (c *chunkBuf) room() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.n&chunkMask == 0 && c.n>>chunkShift == len(c.chunks) {
		chunk, ok := c.mem.get()
		if !ok {
			c.err = errBudget
			return nil, c.err
		}
		c.chunks = append(c.chunks, chunk)
	}
	return c.chunks[len(c.chunks)-1][c.n&chunkMask:], nil
}

// Write appends p, failing with errBudget when no chunk is left.
func (c *chunkBuf) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		dst, err := c.room()
		if err != nil {
			return written, err
		}
		k := copy(dst, p)
		c.n += k
		written += k
		p = p[k:]
	}
	return written, nil
}

// ReadFrom appends everything r gives until EOF, reading straight into the
// chunks. It returns errBudget when no chunk is left, or r's error.
func (c *chunkBuf) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		dst, err := c.room()
		if err != nil {
			return total, err
		}
		k, err := r.Read(dst)
		c.n += k
		total += int64(k)
		if err == io.EOF { //nolint:errorlint // io.EOF is returned unwrapped by contract
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// release gives the chunks back to the budget; c is empty afterwards.
func (c *chunkBuf) release() {
	if c.mem != nil && len(c.chunks) > 0 {
		c.mem.put(c.chunks)
	}
	c.chunks, c.n = nil, 0
}

// Len returns the number of bytes held.
func (c *chunkBuf) Len() int { return c.n }

func (c *chunkBuf) at(i int) byte { return c.chunks[i>>chunkShift][i&chunkMask] }

func (c *chunkBuf) u16(i int) uint16 { return uint16(c.at(i))<<8 | uint16(c.at(i+1)) }

func (c *chunkBuf) u32(i int) uint32 { return uint32(c.u16(i))<<16 | uint32(c.u16(i+2)) }

// segment returns the bytes from i to j (j-i at most), up to the end of i's
// chunk.
func (c *chunkBuf) segment(i, j int) []byte {
	end := min(j-i, chunkSize-i&chunkMask)
	return c.chunks[i>>chunkShift][i&chunkMask : i&chunkMask+end]
}

// equal reports whether the bytes at i are s.
func (c *chunkBuf) equal(i int, s string) bool {
	if i+len(s) > c.n {
		return false
	}
	for k := range len(s) {
		if c.at(i+k) != s[k] {
			return false
		}
	}
	return true
}

// crc returns the CRC-32 (IEEE) of bytes i to j.
func (c *chunkBuf) crc(i, j int) uint32 {
	var sum uint32
	for i < j {
		s := c.segment(i, j)
		sum = crc32.Update(sum, crc32.IEEETable, s)
		i += len(s)
	}
	return sum
}

// indexFF returns the index of the first 0xFF at or after i, or -1.
func (c *chunkBuf) indexFF(i int) int {
	for i < c.n {
		s := c.segment(i, c.n)
		for k, b := range s {
			if b == 0xFF {
				return i + k
			}
		}
		i += len(s)
	}
	return -1
}

// sha256 returns the SHA-256 of the bytes held.
func (c *chunkBuf) sha256() [32]byte {
	h := sha256.New()
	for i := 0; i < c.n; {
		s := c.segment(i, c.n)
		h.Write(s)
		i += len(s)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// reader returns an io.ReadSeeker over the bytes held: the SDK seeks back
// after hashing the body for its signature, and to retry.
func (c *chunkBuf) reader() io.ReadSeeker { return &chunkReader{c: c} }

type chunkReader struct {
	c   *chunkBuf
	off int64
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.off >= int64(r.c.n) {
		return 0, io.EOF
	}
	k := copy(p, r.c.segment(int(r.off), r.c.n))
	r.off += int64(k)
	return k, nil
}

func (r *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += int64(r.c.n)
	default:
		return 0, errors.New("chunkReader.Seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("chunkReader.Seek: negative position")
	}
	r.off = offset
	return offset, nil
}
