package serve

import (
	"encoding/json"
	"testing"

	"github.com/lepton-cli/lepton/internal/imaging"
)

// benchBody is one CIFAR-sized FP32 request, as the load generator sends.
var benchBody = []byte(fp32Body(testImage(3)))

// BenchmarkDecodeInfer measures the server's decoding of one V2 request
// of 3072 FP32 values.
func BenchmarkDecodeInfer(b *testing.B) {
	var r inferRequest
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeInfer(benchBody, &r, 64*imaging.Size); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeInferEncodingJSON is the same decoding with
// encoding/json, for comparison.
func BenchmarkDecodeInferEncodingJSON(b *testing.B) {
	var r struct {
		ID     string `json:"id"`
		Inputs []struct {
			Name     string    `json:"name"`
			Shape    []int64   `json:"shape"`
			Datatype string    `json:"datatype"`
			Data     []float32 `json:"data"`
		} `json:"inputs"`
	}
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(benchBody, &r); err != nil {
			b.Fatal(err)
		}
	}
}
