package model

import (
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// BenchmarkTrainStep measures one forward+backward pass of the reference
// model (3072-128-64-32-16-10) at batch 128 under gonum's pure-Go BLAS and
// under lepton's kernels with 1 and 2 threads.
func BenchmarkTrainStep(b *testing.B) {
	defer G.Use(gonum.Implementation{})
	cases := []struct {
		name string
		use  func()
	}{
		{"gonum", func() { G.Use(gonum.Implementation{}) }},
		{"lepton-t1", func() { UseThreads(1) }},
		{"lepton-t2", func() { UseThreads(2) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.use()
			benchStep(b)
		})
	}
}

func benchStep(b *testing.B) {
	spec := Spec{Input: 3072, Hidden: []int{128, 64, 32, 16}, Classes: 10, Activation: "relu", Init: "he"}
	p, err := NewParams(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	net, err := NewTrainer(spec, p, 128)
	if err != nil {
		b.Fatal(err)
	}
	defer net.Close()
	for i := range net.Input() {
		net.Input()[i] = float32(i%255)/255 - 0.5
	}
	for i := 0; i < 128; i++ {
		net.Targets()[i*10+i%10] = 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := net.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "images/s")
}
