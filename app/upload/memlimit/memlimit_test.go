package memlimit

import "testing"

func TestPerTaskSize(t *testing.T) {
	for _, c := range []struct {
		taskMiB    int
		buffer     int64
		bound      int64
		goMemLimit string
	}{
		{512, 96 << 20, 160 << 20, "316MiB"},
		{1024, 192 << 20, 256 << 20, "691MiB"},
		{2048, 384 << 20, 448 << 20, "1440MiB"},
	} {
		if got := BufferBytes(c.taskMiB); got != c.buffer {
			t.Errorf("BufferBytes(%d) = %d; want %d", c.taskMiB, got, c.buffer)
		}
		if got := Bound(BufferBytes(c.taskMiB)); got != c.bound {
			t.Errorf("Bound(BufferBytes(%d)) = %d; want %d", c.taskMiB, got, c.bound)
		}
		if got := GoMemLimit(c.taskMiB); got != c.goMemLimit {
			t.Errorf("GoMemLimit(%d) = %q; want %q", c.taskMiB, got, c.goMemLimit)
		}
		// Everything upload may use, plus the proxy's share, fits the task.
		if total := Bound(BufferBytes(c.taskMiB)) + ServiceConnectProxyMiB<<20; total > int64(c.taskMiB)<<20 {
			t.Errorf("task %d MiB: bound plus proxy = %d MiB; over the task", c.taskMiB, total>>20)
		}
	}
	if BufferBytes(512) != DefaultBufferBytes {
		t.Errorf("DefaultBufferBytes = %d; want BufferBytes(512) = %d, the default task's", DefaultBufferBytes, BufferBytes(512))
	}
}
