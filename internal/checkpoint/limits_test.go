package checkpoint

import (
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

// sparse writes b to a temporary file and extends it with a hole to size
// bytes (no disk space is used).
func sparse(t *testing.T, b []byte, size int64) string {
	t.Helper()
	path := writeTemp(t, "sparse.safetensors", b)
	if err := os.Truncate(path, size); err != nil {
		t.Fatalf("truncate: %v", err)
	}
	return path
}

// TestLoadLimits checks the sizes Load refuses before reading tensor data,
// on files whose size (a hole) matches what their header claims: neither
// the file size nor the header may make Load allocate.
func TestLoadLimits(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	md := validMeta(t)
	const gib = 1 << 30
	withMeta := func(key, value string) map[string]string {
		m := validMeta(t)
		m[key] = value
		return m
	}
	// tensor declares rows x cols float32 values.
	tensor := func(rows, cols uint64) []rawTensor {
		return []rawTensor{{name: "w", dtype: "F32", shape: []uint64{rows, cols}, offsets: [2]uint64{0, 4 * rows * cols}}}
	}
	// headerOnly is a crafted header whose data section is left to the hole.
	headerOnly := func(m map[string]string, ts []rawTensor) []byte { return craft(t, m, ts, nil, true) }
	hdrLen := func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) }

	tests := []struct {
		name      string
		file      []byte
		size      int64 // 0: len(file)
		wantMsg   string
		maxAlloc  uint64
		dataAfter bool // size counts from the end of the header
	}{
		{name: "valid checkpoint extended to 100 GB", file: golden, size: 100 * gib,
			wantMsg: "tensors cover 80 bytes but data section is", maxAlloc: 1 << 20},
		{name: "header declares a 100 GB tensor", file: headerOnly(md, tensor(25600, 1<<20)), size: 100 * gib, dataAfter: true,
			wantMsg: "data section is 107374182400 bytes, more than the 17179869184 allowed", maxAlloc: 1 << 20},
		{name: "header declares MaxData+4 bytes", file: headerOnly(md, tensor(641, 6700417)), size: MaxData + 4, dataAfter: true,
			wantMsg: "more than the 17179869184 allowed", maxAlloc: 1 << 20},
		{name: "header length over MaxHeader", file: binary.LittleEndian.AppendUint64(nil, MaxHeader+8), size: 8 + MaxHeader + 8,
			wantMsg: "header length 16777224 exceeds the 16777216-byte limit", maxAlloc: 1 << 20},
		{name: "config over MaxConfig", file: craft(t, withMeta(keyConfig, strings.Repeat("#", MaxConfig+1)), tensor(1, 2), make([]byte, 8), true),
			wantMsg: "config metadata is 1048577 bytes, more than the 1048576 allowed", maxAlloc: 16 << 20},
		{name: "metadata over MaxMetadata", file: craft(t, withMeta(keyState, `"`+strings.Repeat("x", MaxMetadata)+`"`), tensor(1, 2), make([]byte, 8), true),
			wantMsg: "metadata is 8389178 bytes, more than the 8388608 allowed", maxAlloc: 64 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.size
			if size == 0 {
				size = int64(len(tc.file))
			}
			if tc.dataAfter {
				size += 8 + hdrLen(tc.file)
			}
			path := sparse(t, tc.file, size)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			c, err := Load(path)
			runtime.ReadMemStats(&after)
			if c != nil || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load = %v, %v; want ErrCorrupt", c, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tc.maxAlloc {
				t.Errorf("Load allocated %d bytes, want at most %d", alloc, tc.maxAlloc)
			}
		})
	}
}

// TestLoadReadsInPieces checks that loading a checkpoint costs about its
// tensor data once, not a copy of the whole file on top.
func TestLoadReadsInPieces(t *testing.T) {
	const n = 4 << 20 // 16 MB of float32
	c := sampleCheckpoint()
	c.Tensors = append(c.Tensors, Tensor{Name: "big", Shape: []int{n}, Data: make([]float32, n)})
	for i := range c.Tensors[len(c.Tensors)-1].Data {
		c.Tensors[len(c.Tensors)-1].Data[i] = float32(i)
	}
	path := writeTemp(t, "big.safetensors", nil)
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := Load(path)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	big, err := got.Tensor("big")
	if err != nil || big.Data[n-1] != float32(n-1) {
		t.Fatalf("big tensor = %v, %v", big, err)
	}
	// The tensor itself is 16 MiB; one read buffer is 1 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20+4<<20 {
		t.Errorf("Load of a 16 MiB checkpoint allocated %d bytes, want at most 20 MiB", alloc)
	}
}
