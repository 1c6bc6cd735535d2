package blas

import (
	"math/rand"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
)

// TestOccupyKeepsProductsOnTheCaller: while as many goroutines as threads
// are declared busy, a product large enough to be split runs on its
// caller alone (no worker is started) and gives the same bits; after the
// release it is split again. Releasing twice releases once.
func TestOccupyKeepsProductsOnTheCaller(t *testing.T) {
	tests := []struct {
		name    string
		threads int
		occupy  int
		split   bool // whether the product may still use workers
	}{
		{name: "t2 one busy", threads: 2, occupy: 1, split: false},
		{name: "t3 two busy", threads: 3, occupy: 2, split: false},
		{name: "t3 one busy", threads: 3, occupy: 1, split: true},
		{name: "t2 none busy", threads: 2, occupy: 0, split: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			p := newProblem(rng, gblas.NoTrans, gblas.NoTrans, 200, 160, 140, 0, 1, 0, 0, false) // above parMinWork
			want := append([]float32(nil), p.c...)
			p.run(newImpl(1, selectedKernel()), want)

			impl := newImpl(tc.threads, selectedKernel())
			release := Occupy(tc.occupy)
			c := append([]float32(nil), p.c...)
			p.run(impl, c)
			if started := impl.tasks != nil; started != tc.split {
				t.Errorf("workers started: %v, want %v", started, tc.split)
			}
			release()
			release()
			if n := occupied.Load(); n != 0 {
				t.Fatalf("%d goroutines still declared busy after release", n)
			}
			for i := range c {
				if c[i] != want[i] {
					t.Fatalf("C[%d] = %v, want %v (serial)", i, c[i], want[i])
				}
			}
			p.run(impl, c)
			if impl.tasks == nil {
				t.Error("after the release the product still runs on its caller alone")
			}
		})
	}
}
