package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// onnxBytes is a minimal serialized ONNX ModelProto: ir_version 8, a
// producer name and a graph holding one node name.
func onnxBytes() []byte {
	var graph []byte
	graph = protowire.AppendTag(graph, 2, protowire.BytesType) // GraphProto.name
	graph = protowire.AppendString(graph, "lepton")
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 8)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, "lepton")
	b = protowire.AppendTag(b, 7, protowire.BytesType)
	b = protowire.AppendBytes(b, graph)
	return b
}

// TestLoadErrorsAreUnusable checks that every Load error matches
// ErrUnusable, and that files of another kind are named as such instead
// of being called corrupt.
func TestLoadErrorsAreUnusable(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	md := validMeta(t)
	md[keyFormatVersion] = "7"
	tests := []struct {
		name    string
		path    string
		want    string
		corrupt bool
	}{
		{name: "missing", path: filepath.Join(dir, "nope.safetensors"), want: "no such file"},
		{name: "directory", path: dir, want: "is a directory"},
		{name: "damaged", path: write("bad.safetensors", []byte("\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")), want: "corrupt checkpoint", corrupt: true},
		{name: "other version", path: write("v7.safetensors", craft(t, md, nil, nil, true)), want: "format version 7"},
		{name: "ONNX model", path: write("model.onnx", onnxBytes()), want: "model.onnx is an ONNX model, not a lepton checkpoint"},
		{name: "PNG image", path: write("cat.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")), want: "cat.png is a PNG image, not a lepton checkpoint"},
		{name: "PyTorch zip", path: write("model.pt", []byte("PK\x03\x04rest of a zip")), want: "is a zip archive (a PyTorch .pt file?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			if !errors.Is(err, ErrUnusable) {
				t.Errorf("Load error %v does not match ErrUnusable", err)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error %v, want it to contain %q", err, tc.want)
			}
			if got := errors.Is(err, ErrCorrupt); got != tc.corrupt {
				t.Errorf("errors.Is(err, ErrCorrupt) = %v, want %v (%v)", got, tc.corrupt, err)
			}
		})
	}
}

// TestSniffLeavesDamagedCheckpointsAlone checks that bytes that merely
// start like a checkpoint are not mistaken for ONNX.
func TestSniffLeavesDamagedCheckpointsAlone(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{not json}"), onnxBytes()[:5]} {
		if kind := sniff(b); kind != "" {
			t.Errorf("sniff(%q) = %q, want none", b, kind)
		}
	}
}

func TestTensorMissingIsUnusable(t *testing.T) {
	c := sampleCheckpoint()
	if _, err := c.Tensor("layers.9.weight"); !errors.Is(err, ErrUnusable) {
		t.Errorf("missing tensor: %v, want ErrUnusable", err)
	}
}
