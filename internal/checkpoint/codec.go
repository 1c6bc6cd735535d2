package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/nlpodyssey/safetensors"
)

// filePerm is the permission of written checkpoint files (before umask).
const filePerm = 0o644

// maxDim bounds each tensor dimension, so shapes fit an int on every
// platform.
const maxDim = math.MaxInt32

// metadataKey is the reserved safetensors header key holding the metadata.
const metadataKey = "__metadata__"

// detailError carries a one-line message and wraps a sentinel kind
// (ErrCorrupt or ErrVersion) without repeating the sentinel's text.
type detailError struct {
	kind error
	msg  string
}

// Error implements error.
func (e *detailError) Error() string { return e.msg }

// Unwrap returns the sentinel kind.
func (e *detailError) Unwrap() error { return e.kind }

// corruptf returns an error wrapping ErrCorrupt. Line breaks in the message
// (which may quote file content) are escaped to keep it on one line.
func corruptf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	msg = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(msg)
	return &detailError{kind: ErrCorrupt, msg: ErrCorrupt.Error() + ": " + msg}
}

// tensorIndex is one tensor's entry in the safetensors header.
type tensorIndex struct {
	name    string
	dtype   safetensors.DType
	shape   []uint64
	offsets [2]uint64
}

// f32View adapts encoded float32 data to safetensors.View.
type f32View struct {
	shape []uint64
	data  []byte
}

// DType implements safetensors.View.
func (v f32View) DType() safetensors.DType { return safetensors.F32 }

// Shape implements safetensors.View.
func (v f32View) Shape() []uint64 { return v.shape }

// Data implements safetensors.View.
func (v f32View) Data() []byte { return v.data }

// DataLen implements safetensors.View.
func (v f32View) DataLen() uint64 { return uint64(len(v.data)) }

// encoded is a validated checkpoint ready to be serialized.
type encoded struct {
	views map[string]f32View
	meta  map[string]string
}

// Save writes c to path in the safetensors format, atomically: on error an
// existing file at path is left untouched. The checkpoint is validated first
// (unique, non-empty UTF-8 tensor names; len(Data) == product(Shape);
// encodable metadata). The output is deterministic: the same Checkpoint
// always yields the same bytes.
func Save(path string, c *Checkpoint) error {
	if c == nil {
		return fmt.Errorf("save checkpoint %s: nil checkpoint", path)
	}
	e, err := encode(c)
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	err = atomicfile.Write(path, filePerm, func(w io.Writer) error {
		return safetensors.SerializeToWriter(e.views, e.meta, w)
	})
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// encode validates c and prepares its tensor views and metadata, including
// both checksums.
func encode(c *Checkpoint) (*encoded, error) {
	meta, err := encodeMeta(&c.Meta)
	if err != nil {
		return nil, err
	}
	// The safetensors serializer orders tensors by dtype, then name; all
	// are F32, so the data section is in name order, as hashed here.
	order := make([]*Tensor, len(c.Tensors))
	for i := range c.Tensors {
		order[i] = &c.Tensors[i]
	}
	slices.SortFunc(order, func(a, b *Tensor) int { return strings.Compare(a.Name, b.Name) })

	views := make(map[string]f32View, len(order))
	index := make([]tensorIndex, 0, len(order))
	h := sha256.New()
	var offset uint64
	for i, t := range order {
		if err := checkName(t.Name); err != nil {
			return nil, err
		}
		if i > 0 && order[i-1].Name == t.Name {
			return nil, fmt.Errorf("duplicate tensor %q", t.Name)
		}
		shape := make([]uint64, len(t.Shape))
		for j, d := range t.Shape {
			if d < 0 || d > maxDim {
				return nil, fmt.Errorf("tensor %q shape %v: dimension out of range [0, %d]", t.Name, t.Shape, maxDim)
			}
			shape[j] = uint64(d)
		}
		n, err := elementCount(shape)
		if err != nil {
			return nil, fmt.Errorf("tensor %q shape %v: %w", t.Name, t.Shape, err)
		}
		if n != uint64(len(t.Data)) {
			return nil, fmt.Errorf("tensor %q has shape %v (%d values) but %d data values", t.Name, t.Shape, n, len(t.Data))
		}
		data := float32Bytes(t.Data)
		h.Write(data)
		views[t.Name] = f32View{shape: shape, data: data}
		end := offset + uint64(len(data))
		index = append(index, tensorIndex{name: t.Name, dtype: safetensors.F32, shape: shape, offsets: [2]uint64{offset, end}})
		offset = end
	}
	meta[keyDataSHA] = hex.EncodeToString(h.Sum(nil))
	meta[keyHeaderSHA] = headerDigest(meta, index)
	return &encoded{views: views, meta: meta}, nil
}

// checkName reports whether name is usable as a tensor name.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("tensor with empty name")
	case name == metadataKey:
		return fmt.Errorf("tensor name %q is reserved", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("tensor name %q is not valid UTF-8", name)
	}
	return nil
}

// elementCount multiplies the dimensions in order, failing on overflow at any
// point, exactly like the safetensors validators (so that whatever Save
// writes, Load and other safetensors readers accept).
func elementCount(shape []uint64) (uint64, error) {
	n := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return 0, errors.New("element count overflows")
		}
		n = lo
	}
	return n, nil
}

// headerDigest returns the hex SHA-256 of an unambiguous, length-prefixed
// encoding of the metadata entries (except header_sha256 itself) and the
// tensor index, both in sorted order. It covers the header's meaning rather
// than its bytes, so it does not depend on JSON formatting.
func headerDigest(meta map[string]string, index []tensorIndex) string {
	h := sha256.New()
	var buf [8]byte
	putUint := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	putString := func(s string) {
		putUint(uint64(len(s)))
		io.WriteString(h, s)
	}
	putString("lepton checkpoint header")

	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != keyHeaderSHA {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	putUint(uint64(len(keys)))
	for _, k := range keys {
		putString(k)
		putString(meta[k])
	}

	sorted := slices.Clone(index)
	slices.SortFunc(sorted, func(a, b tensorIndex) int { return strings.Compare(a.name, b.name) })
	putUint(uint64(len(sorted)))
	for _, t := range sorted {
		putString(t.name)
		putString(t.dtype.String())
		putUint(uint64(len(t.shape)))
		for _, d := range t.shape {
			putUint(d)
		}
		putUint(t.offsets[0])
		putUint(t.offsets[1])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// float32Bytes encodes v as little-endian IEEE 754 bytes.
func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}
