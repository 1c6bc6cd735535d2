package checkpoint

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
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

// Load reads and fully verifies the checkpoint at path. Tensors are returned
// sorted by name.
//
// Every error matches ErrUnusable. A missing or unreadable file gives an
// error wrapping the os error (so errors.Is(err, fs.ErrNotExist) works). A
// file of another known kind (an ONNX model, an image) is named as such. A
// damaged file, or one that is not a lepton checkpoint, gives a one-line
// error naming the file and wrapping ErrCorrupt; a lepton checkpoint of
// another format version wraps ErrVersion.
func Load(path string) (*Checkpoint, error) {
	buf, err := readFile(path)
	if err != nil {
		return nil, Unusable(err)
	}
	c, err := decode(buf)
	if err != nil {
		if kind := sniff(buf); kind != "" {
			return nil, Unusable(fmt.Errorf("%s is %s, not a lepton checkpoint (.safetensors)", path, kind))
		}
		return nil, Unusable(fmt.Errorf("%s: %w", path, err))
	}
	return c, nil
}

// readFile reads the regular file at path. Its size comes from the file
// system, not from file content.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		// The *PathError would repeat the path.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("open checkpoint %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat checkpoint %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read checkpoint %s: not a regular file (mode %v)", path, fi.Mode())
	}
	size := fi.Size()
	if uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("read checkpoint %s: file too large (%d bytes)", path, size)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return buf, nil
}

// decode parses and verifies a whole checkpoint file held in buf.
func decode(buf []byte) (*Checkpoint, error) {
	if len(buf) < 8 {
		return nil, corruptf("file is %d bytes, too short for the 8-byte header length", len(buf))
	}
	n := binary.LittleEndian.Uint64(buf[:8])
	if rest := uint64(len(buf) - 8); n > rest {
		return nil, corruptf("header length %d exceeds the %d bytes that follow it", n, rest)
	}
	header, data := buf[8:8+n], buf[8+n:]
	if !utf8.Valid(header) {
		return nil, corruptf("header is not valid UTF-8")
	}

	// Parse the metadata on its own first, so that a future format version
	// is reported as such even if its tensor entries look different.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(header, &top); err != nil {
		return nil, corruptf("invalid JSON header: %v", err)
	}
	var md map[string]string
	if raw, ok := top[metadataKey]; ok {
		if err := json.Unmarshal(raw, &md); err != nil {
			return nil, corruptf("invalid %s: %v", metadataKey, err)
		}
	}
	if msg, verr := checkFormat(md); verr != nil {
		return nil, verr
	} else if msg != "" {
		return nil, corruptf("%s", msg)
	}

	var stmd safetensors.Metadata
	if err := json.Unmarshal(header, &stmd); err != nil {
		return nil, corruptf("invalid header: %v", err)
	}
	index, err := checkIndex(stmd.Tensors(), uint64(len(data)))
	if err != nil {
		return nil, err
	}

	wantData, ok := md[keyDataSHA]
	if !ok {
		return nil, corruptf("missing %q metadata", keyDataSHA)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != wantData {
		return nil, corruptf("data checksum mismatch (header records %.16s…, data hashes to %.16s…)", wantData, got)
	}
	wantHeader, ok := md[keyHeaderSHA]
	if !ok {
		return nil, corruptf("missing %q metadata", keyHeaderSHA)
	}
	if got := headerDigest(md, index); got != wantHeader {
		return nil, corruptf("header checksum mismatch (header records %.16s…, header hashes to %.16s…)", wantHeader, got)
	}

	meta, err := decodeMeta(md)
	if err != nil {
		return nil, corruptf("%v", err)
	}

	// Final check by the safetensors library itself, which also provides
	// the tensor views.
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return nil, corruptf("invalid safetensors file: %v", err)
	}
	c := &Checkpoint{Tensors: make([]Tensor, 0, len(index)), Meta: meta}
	for _, t := range index {
		view, ok := st.Tensor(t.name)
		if !ok {
			return nil, corruptf("tensor %q missing from safetensors index", t.name)
		}
		shape := make([]int, len(view.Shape()))
		for i, d := range view.Shape() {
			shape[i] = int(d) // bounded by checkIndex
		}
		c.Tensors = append(c.Tensors, Tensor{Name: t.name, Shape: shape, Data: bytesFloat32(view.Data())})
	}
	return c, nil
}

// checkIndex verifies the tensor entries against the data section of dataLen
// bytes: F32 only, shapes matching byte counts, offsets in range, contiguous,
// non-overlapping and covering the whole data section. It returns the
// entries sorted by name.
func checkIndex(infos map[string]*safetensors.TensorInfo, dataLen uint64) ([]tensorIndex, error) {
	index := make([]tensorIndex, 0, len(infos))
	for name, info := range infos {
		index = append(index, tensorIndex{name: name, dtype: info.DType, shape: info.Shape, offsets: info.DataOffsets})
	}
	slices.SortFunc(index, func(a, b tensorIndex) int {
		return cmp.Or(cmp.Compare(a.offsets[0], b.offsets[0]), cmp.Compare(a.offsets[1], b.offsets[1]), strings.Compare(a.name, b.name))
	})
	var covered uint64
	prev := ""
	for _, t := range index {
		if err := checkName(t.name); err != nil {
			return nil, corruptf("%v", err)
		}
		if t.dtype != safetensors.F32 {
			return nil, corruptf("tensor %q has dtype %s, want F32", t.name, t.dtype)
		}
		b, e := t.offsets[0], t.offsets[1]
		if b > e {
			return nil, corruptf("tensor %q has data_offsets [%d, %d] with begin after end", t.name, b, e)
		}
		if e > dataLen {
			return nil, corruptf("tensor %q data_offsets [%d, %d] out of range: data section is %d bytes", t.name, b, e, dataLen)
		}
		n, err := elementCount(t.shape)
		if err != nil {
			return nil, corruptf("tensor %q shape %v: %v", t.name, t.shape, err)
		}
		for _, d := range t.shape {
			if d > maxDim {
				return nil, corruptf("tensor %q shape %v: dimension out of range [0, %d]", t.name, t.shape, maxDim)
			}
		}
		if hi, nb := bits.Mul64(n, 4); hi != 0 || nb != e-b {
			return nil, corruptf("tensor %q has shape %v (%d values) but data_offsets [%d, %d] span %d bytes", t.name, t.shape, n, b, e, e-b)
		}
		switch {
		case b < covered:
			return nil, corruptf("tensor %q data_offsets [%d, %d] overlap tensor %q ending at %d", t.name, b, e, prev, covered)
		case b > covered:
			return nil, corruptf("%d unused data bytes before tensor %q at offset %d", b-covered, t.name, b)
		}
		covered, prev = e, t.name
	}
	if covered != dataLen {
		return nil, corruptf("tensors cover %d bytes but data section is %d bytes", covered, dataLen)
	}
	slices.SortFunc(index, func(a, b tensorIndex) int { return strings.Compare(a.name, b.name) })
	return index, nil
}

// float32Bytes encodes v as little-endian IEEE 754 bytes.
func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// bytesFloat32 decodes little-endian IEEE 754 bytes; len(b) is a multiple of 4.
func bytesFloat32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
