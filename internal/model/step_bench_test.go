package model_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/optim"
)

// The benchmarks of this file and gemm_bench_test.go measure the models of
// configs/mlp.yaml (3072-128-64-32-16-10, batch 128, Adam) and
// configs/best.yaml (3072-1024-512-256-10 with batch norm and dropout,
// batch 256, AdamW), read from the config files, for each kernel
// (LEPTON_KERNEL avx512 and avx2; one the CPU lacks is skipped as not
// available) and 1 and 2 threads. `make bench-kernels` runs them.

// benchConfigs are the configs whose models are measured, by base name.
var benchConfigs = []string{"mlp", "best"}

// benchModel is what one training step of a config needs.
type benchModel struct {
	spec  model.Spec
	batch int
	opt   optim.Settings
	lr    float64
}

// loadBenchModel reads configs/<name>.yaml; the input and class counts
// are CIFAR-10's where the config leaves them to the data.
func loadBenchModel(b *testing.B, name string) benchModel {
	b.Helper()
	cfg, err := config.Load(config.LoadOptions{File: filepath.Join("..", "..", "configs", name+".yaml")})
	if err != nil {
		b.Fatal(err)
	}
	spec := cfg.Model.Spec()
	if spec.Input == 0 {
		spec.Input = 3072
	}
	if spec.Classes == 0 {
		spec.Classes = 10
	}
	return benchModel{spec: spec, batch: cfg.Train.BatchSize, opt: cfg.Train.Optimizer.Settings(nil), lr: cfg.Train.Optimizer.LR}
}

// stepper runs the training loop's work for one batch: new dropout masks,
// forward and backward pass (Net.Run), the optimizer update. The batch
// assembly (decoding, augmentation, normalization, the loader's
// goroutines) is not part of it.
type stepper struct {
	net    *model.Net
	params [][]float32
	opt    optim.Optimizer
	lr     float64
	rng    *rand.Rand
}

func newStepper(b *testing.B, m benchModel) *stepper {
	b.Helper()
	p, err := model.NewParams(m.spec, 42)
	if err != nil {
		b.Fatal(err)
	}
	net, err := model.NewTrainer(m.spec, p, m.batch)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { net.Close() })
	// Inputs shaped like normalized pixels, one-hot targets.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range net.Input() {
		net.Input()[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < m.batch; i++ {
		net.Targets()[i*m.spec.Classes+i%m.spec.Classes] = 1
	}
	s := m.opt
	s.NoDecay = p.NoDecay()
	var sizes []int
	for _, x := range p.Slices() {
		sizes = append(sizes, len(x))
	}
	opt, err := optim.New(s, sizes)
	if err != nil {
		b.Fatal(err)
	}
	return &stepper{net: net, params: p.Slices(), opt: opt, lr: m.lr, rng: rng}
}

// step runs one training step.
func (s *stepper) step(b *testing.B) {
	s.net.SampleDropout(s.rng)
	if err := s.net.Run(); err != nil {
		b.Fatal(err)
	}
	grads, err := s.net.Grads()
	if err != nil {
		b.Fatal(err)
	}
	s.opt.Step(s.params, grads, s.lr)
}

// stepCalls returns the Sgemm calls of one training step of m, in order.
func stepCalls(b *testing.B, m benchModel) []gemmCall {
	b.Helper()
	impl, _ := useKernel(b, "", 1)
	r := &recorder{Implementation: impl}
	G.Use(r)
	s := newStepper(b, m)
	s.step(b) // the first run may differ (allocations); record the second
	r.calls = nil
	s.step(b)
	return r.calls
}

// BenchmarkStep measures one training step of each config's model: images/s,
// and the GFLOP/s and %peak of the step's matrix products (2mnk summed over
// its Sgemm calls, divided by the whole step's time: the share of the
// peak the step reaches).
func BenchmarkStep(b *testing.B) {
	coreMHz() // prints the peak assumption before any result line
	for _, name := range benchConfigs {
		b.Run("model="+name, func(b *testing.B) {
			m := loadBenchModel(b, name)
			var flops float64
			for _, c := range stepCalls(b, m) {
				flops += c.flops()
			}
			for _, kernel := range benchKernels {
				for _, threads := range benchThreads {
					b.Run(fmt.Sprintf("kernel=%s/threads=%d", kernel, threads), func(b *testing.B) {
						_, kname := useKernel(b, kernel, threads)
						s := newStepper(b, m)
						s.step(b)
						b.ReportAllocs()
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							s.step(b)
						}
						b.ReportMetric(float64(b.N*m.batch)/b.Elapsed().Seconds(), "images/s")
						reportFLOPs(b, flops, kname, threads)
					})
				}
			}
		})
	}
}
