package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/model"
)

// benchBodies are CIFAR-sized FP32 requests as the load generator sends
// them, of different images: one body decoded again and again would let
// the branch predictor learn its number lengths.
var benchBodies = func() [][]byte {
	out := make([][]byte, 16)
	for i := range out {
		out[i] = []byte(fp32Body(testImage(i + 3)))
	}
	return out
}()

var benchBody = benchBodies[0]

// BenchmarkDecodeInfer measures the server's decoding of one V2 request
// of 3072 FP32 values.
func BenchmarkDecodeInfer(b *testing.B) {
	var r inferRequest
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := decodeInfer(benchBodies[i%len(benchBodies)], &r, 64*imaging.Size); err != nil {
			b.Fatal(err)
		}
		i++
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

// mlpModel is configs/mlp.yaml's network (3072-128-64-32-16-10) with
// random weights.
func mlpModel(b *testing.B) *classifier.Model {
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = imaging.Size, 10
	p, err := model.NewParams(cfg.Model.Spec(), 1)
	if err != nil {
		b.Fatal(err)
	}
	stats := data.Stats{Mean: []float32{0.49, 0.48, 0.45}, Std: []float32{0.25, 0.24, 0.26}}
	return newModel(b, &cfg, p, data.CIFARGeometry, stats, data.DefaultClasses())
}

// BenchmarkForward measures one forward pass of configs/mlp.yaml's model
// over 1 and 64 images, per image: what batching saves.
func BenchmarkForward(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) { benchForward(b, threads) })
	}
}

func benchForward(b *testing.B, threads int) {
	model.UseThreads(threads) // lepton's kernels, as "lepton serve" runs
	defer model.UseThreads(runtime.NumCPU())
	net := mlpModel(b)
	defer net.Close()
	x := make([]float32, imaging.Size)
	for i := range x {
		x[i] = float32(i%255)/255 - 0.5
	}
	for _, rows := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			fill := func(_ int, dst []float32) { copy(dst, x) }
			out := func(int, []float32) {}
			if err := net.Logits(context.Background(), rows, fill, out); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := net.Logits(context.Background(), rows, fill, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/image")
		})
	}
}
