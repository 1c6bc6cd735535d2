package checkpoint

import (
	"bytes"

	"google.golang.org/protobuf/encoding/protowire"
)

// sniff names the kind of a file that is not a lepton checkpoint, from its
// first bytes, or returns "" when it looks like none of them: an ONNX model
// (what "lepton export" writes), an image, an archive.
func sniff(buf []byte) string {
	switch {
	case bytes.HasPrefix(buf, []byte("\x89PNG\r\n\x1a\n")):
		return "a PNG image"
	case bytes.HasPrefix(buf, []byte("\xff\xd8\xff")):
		return "a JPEG image"
	case bytes.HasPrefix(buf, []byte("GIF87a")), bytes.HasPrefix(buf, []byte("GIF89a")):
		return "a GIF image"
	case bytes.HasPrefix(buf, []byte("PK\x03\x04")):
		return "a zip archive (a PyTorch .pt file?)"
	case bytes.HasPrefix(buf, []byte("\x1f\x8b")):
		return "a gzip file"
	case isONNX(buf):
		return "an ONNX model"
	}
	return ""
}

// isONNX reports whether buf is a serialized ONNX ModelProto: a protobuf
// message, read to its end, holding ir_version (field 1, a varint) and a
// graph (field 7, a message).
func isONNX(buf []byte) bool {
	var irVersion, graph bool
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return false
		}
		buf = buf[n:]
		n = protowire.ConsumeFieldValue(num, typ, buf)
		if n < 0 {
			return false
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			irVersion = true
		case num == 7 && typ == protowire.BytesType:
			graph = true
		}
		buf = buf[n:]
	}
	return irVersion && graph
}
