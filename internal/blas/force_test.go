package blas

import (
	"errors"
	"math/rand"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
)

func TestParseKernel(t *testing.T) {
	best := bestKernel().String()
	tests := []struct {
		value string
		want  string // "" with err set
		err   error
		need  kernelID // the kernel the case needs; skipped without it
	}{
		{value: "", want: best},
		{value: "  ", want: best},
		{value: "generic", want: KernelGeneric},
		{value: "GENERIC", want: KernelGeneric},
		{value: "avx2", want: KernelAVX2FMA, need: kernAVX2},
		{value: "AVX2-FMA", want: KernelAVX2FMA, need: kernAVX2},
		{value: "avx512", want: KernelAVX512FMA, need: kernAVX512},
		{value: "Avx512-Fma", want: KernelAVX512FMA, need: kernAVX512},
		{value: "bogus", err: ErrUnknownKernel},
		{value: "sse", err: ErrUnknownKernel},
		{value: "avx2 fma", err: ErrUnknownKernel},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			if tc.need != kernGeneric && !tc.need.available() {
				// This CPU or build cannot run it: it must be refused.
				tc.want, tc.err = "", ErrKernelUnsupported
			}
			got, err := ParseKernel(tc.value)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("ParseKernel(%q) = %q, %v; want %q, %v", tc.value, got, err, tc.want, tc.err)
			}
		})
	}
}

// TestParseKernelUnsupported checks that a kernel the CPU cannot run is an
// error naming LEPTON_KERNEL and the value.
func TestParseKernelUnsupported(t *testing.T) {
	for _, k := range []kernelID{kernAVX2, kernAVX512} {
		if k.available() {
			continue
		}
		_, err := ParseKernel(k.String())
		if !errors.Is(err, ErrKernelUnsupported) {
			t.Fatalf("ParseKernel(%q): %v, want ErrKernelUnsupported", k, err)
		}
		want := `LEPTON_KERNEL="` + k.String() + `": ` + k.String() + " kernel not supported on this CPU (best available: " + bestKernel().String() + ")"
		if err.Error() != want {
			t.Fatalf("error %q, want %q", err, want)
		}
	}
	_, err := ParseKernel("bogus")
	if want := `LEPTON_KERNEL="bogus": unknown kernel (want avx512, avx2 or generic; empty for the best available)`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestForceKernel checks that New follows ForceKernel, that an error keeps
// the previous choice and that "" restores the best kernel, and that Sgemm
// under every forced kernel matches the float64 reference.
func TestForceKernel(t *testing.T) {
	t.Cleanup(func() { ForceKernel("") })
	for _, k := range kernels() {
		t.Run(k.String(), func(t *testing.T) {
			name, err := ForceKernel(k.String())
			if err != nil || name != k.String() {
				t.Fatalf("ForceKernel(%q) = %q, %v", k, name, err)
			}
			if got := New(2).Kernel(); got != k.String() {
				t.Fatalf("New after ForceKernel(%q): kernel %q", k, got)
			}
			if _, err := ForceKernel("bogus"); err == nil {
				t.Fatal("ForceKernel(bogus) succeeded")
			}
			impl := New(2)
			if got := impl.Kernel(); got != k.String() {
				t.Fatalf("a failed ForceKernel changed the kernel to %q", got)
			}
			rng := rand.New(rand.NewSource(7))
			p := newProblem(rng, gblas.NoTrans, gblas.Trans, 37, 53, 71, 2, 1.5, 0.5, 0, true)
			c := append([]float32(nil), p.c...)
			p.run(impl, c)
			p.check(t, c)
		})
	}
	if _, err := ForceKernel(""); err != nil {
		t.Fatal(err)
	}
	if got, want := New(1).Kernel(), bestKernel().String(); got != want {
		t.Fatalf(`after ForceKernel(""): kernel %q, want %q`, got, want)
	}
}
