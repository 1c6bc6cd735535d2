package checkpoint

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lepton-cli/lepton/internal/regularfile"
	"github.com/nlpodyssey/safetensors"
)

// Limits of Load, checked against the file's header before the tensor data
// is read, so that a crafted or damaged file cannot make Load allocate more
// than the file really holds or more than a lepton model can need.
const (
	// MaxHeader is the largest JSON header (metadata plus tensor index)
	// accepted, in bytes. lepton's headers are a few KB; the metadata
	// itself is capped lower (MaxMetadata).
	MaxHeader = 16 << 20
	// MaxData is the largest tensor data section accepted, in bytes: 4
	// billion float32 values, weights plus optimizer state of a model of
	// over a billion parameters, far beyond what lepton trains.
	MaxData int64 = 16 << 30
)

// readChunk is how much tensor data Load reads at a time.
const readChunk = 1 << 20

// Load reads and fully verifies the checkpoint at path. Tensors are returned
// sorted by name.
//
// Only a regular file is read (a FIFO or a device is refused at once). The
// header length, the header and the tensor index are checked against the
// file size, MaxHeader, MaxMetadata and MaxData before any tensor data is
// read; the data is then read in 1 MiB pieces into tensors of the sizes the
// verified index declares, so memory never exceeds what the file holds.
//
// Every error matches ErrUnusable. A missing or unreadable file gives an
// error wrapping the os error (so errors.Is(err, fs.ErrNotExist) works); a
// path that is not a regular file wraps regularfile.ErrNotRegular. A file
// of another known kind (an ONNX model, an image) is named as such. A
// damaged file, or one that is not a lepton checkpoint, gives a one-line
// error naming the file and wrapping ErrCorrupt; a lepton checkpoint of
// another format version wraps ErrVersion.
func Load(path string) (*Checkpoint, error) {
	c, err := load(path)
	return c, Unusable(err)
}

// sniffLimit is the largest file that a failed Load reads whole to tell
// what else it is (an ONNX model is recognized only whole); of larger files
// only the first bytes are looked at.
const sniffLimit = 8 << 20

func load(path string) (*Checkpoint, error) {
	f, err := regularfile.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the *PathError would repeat the path
		}
		return nil, fmt.Errorf("open checkpoint %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat checkpoint %s: %w", path, err)
	}
	c, err := read(f, fi.Size())
	if err != nil {
		var re *readError
		if errors.As(err, &re) {
			return nil, fmt.Errorf("read checkpoint %s: %w", path, re.err)
		}
		if kind := sniffFile(f, fi.Size()); kind != "" {
			return nil, fmt.Errorf("%s is %s, not a lepton checkpoint (.safetensors)", path, kind)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// sniffFile names the kind of the file f of size bytes that is not a
// checkpoint (see sniff), reading at most sniffLimit bytes of it.
func sniffFile(f io.ReadSeeker, size int64) string {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	n := size
	if n > sniffLimit {
		n = 4096 // the magic numbers of images and archives
	}
	buf, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return ""
	}
	return sniff(buf)
}

// readError is an I/O error (not corruption) while reading the file.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

func (e *readError) Unwrap() error { return e.err }

// readFull reads exactly len(b) bytes; a file that ends early (it shrank
// since its size was taken) is corrupt, other failures are readErrors.
func readFull(r io.Reader, b []byte, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return corruptf("file ended inside the %s", what)
		}
		return &readError{err: err}
	}
	return nil
}

// decode parses and verifies a whole checkpoint file held in buf.
func decode(buf []byte) (*Checkpoint, error) {
	return read(bytes.NewReader(buf), int64(len(buf)))
}

// read parses and verifies a checkpoint of size bytes from r.
func read(r io.Reader, size int64) (*Checkpoint, error) {
	if size < 8 {
		return nil, corruptf("file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], "header length"); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if rest := uint64(size - 8); n > rest {
		return nil, corruptf("header length %d exceeds the %d bytes that follow it", n, rest)
	}
	if n > MaxHeader {
		return nil, corruptf("header length %d exceeds the %d-byte limit", n, MaxHeader)
	}
	header := make([]byte, n)
	if err := readFull(r, header, "header"); err != nil {
		return nil, err
	}
	dataLen := uint64(size-8) - n
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
	if err := checkMetaSize(md); err != nil {
		return nil, corruptf("%v", err)
	}

	// The safetensors library parses the tensor index.
	var stmd safetensors.Metadata
	if err := json.Unmarshal(header, &stmd); err != nil {
		return nil, corruptf("invalid header: %v", err)
	}
	index, err := checkIndex(stmd.Tensors(), dataLen)
	if err != nil {
		return nil, err
	}
	if dataLen > uint64(MaxData) || dataLen/4 > math.MaxInt {
		return nil, corruptf("data section is %d bytes, more than the %d allowed", dataLen, MaxData)
	}

	wantData, ok := md[keyDataSHA]
	if !ok {
		return nil, corruptf("missing %q metadata", keyDataSHA)
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

	// The index is verified: read the data section in file order.
	tensors, err := readTensors(r, index, wantData)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Tensors: tensors, Meta: meta}, nil
}

// readTensors reads the data section described by index (sorted by name,
// contiguous and verified by checkIndex) in readChunk pieces, checks its
// SHA-256 against wantData and returns the tensors sorted by name.
func readTensors(r io.Reader, index []tensorIndex, wantData string) ([]Tensor, error) {
	order := slices.Clone(index)
	slices.SortFunc(order, func(a, b tensorIndex) int { return cmp.Compare(a.offsets[0], b.offsets[0]) })
	byName := make(map[string][]float32, len(index))
	h := sha256.New()
	var chunk []byte
	for _, t := range order {
		values := make([]float32, (t.offsets[1]-t.offsets[0])/4)
		for done := 0; done < len(values); {
			n := min(len(values)-done, readChunk/4)
			if cap(chunk) < 4*n {
				chunk = make([]byte, 4*n)
			}
			b := chunk[:4*n]
			if err := readFull(r, b, fmt.Sprintf("data of tensor %q", t.name)); err != nil {
				return nil, err
			}
			h.Write(b)
			for i := range n {
				values[done+i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			done += n
		}
		byName[t.name] = values
	}
	if got := hexSum(h); got != wantData {
		return nil, corruptf("data checksum mismatch (header records %.16s…, data hashes to %.16s…)", wantData, got)
	}
	tensors := make([]Tensor, 0, len(index))
	for _, t := range index {
		shape := make([]int, len(t.shape))
		for i, d := range t.shape {
			shape[i] = int(d) // bounded by checkIndex
		}
		tensors = append(tensors, Tensor{Name: t.name, Shape: shape, Data: byName[t.name]})
	}
	return tensors, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

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
