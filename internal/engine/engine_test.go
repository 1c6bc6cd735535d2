package engine

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/blas"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/optim"
)

func TestConfigure(t *testing.T) {
	defer Configure(Settings{})
	tests := []struct {
		name    string
		threads int
		want    int
	}{
		{name: "one thread", threads: 1, want: 1},
		{name: "all cores", threads: 0, want: runtime.NumCPU()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if k := Configure(Settings{Threads: tc.threads}); k == "" {
				t.Fatal("no kernel name")
			}
			if got := runtime.GOMAXPROCS(0); got != tc.want {
				t.Fatalf("GOMAXPROCS %d, want %d", got, tc.want)
			}
		})
	}
}

// TestForceKernel checks that LEPTON_KERNEL values reach the kernel
// Configure installs (the short and the reported names alike), that
// "generic" also makes the optimizers portable, and that bad values are
// errors naming LEPTON_KERNEL that change nothing.
func TestForceKernel(t *testing.T) {
	t.Cleanup(func() { ForceKernel(""); Configure(Settings{}) })
	best, err := blas.ParseKernel("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value, want, optim string
		need               string // the kernel the case needs
	}{
		{value: "generic", want: blas.KernelGeneric, optim: "generic"},
		{value: "avx2", want: blas.KernelAVX2FMA, need: blas.KernelAVX2FMA},
		{value: "AVX2-FMA", want: blas.KernelAVX2FMA, need: blas.KernelAVX2FMA},
		{value: "avx512", want: blas.KernelAVX512FMA, need: blas.KernelAVX512FMA},
		{value: "", want: best},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			if tc.need != "" {
				if _, err := blas.ParseKernel(tc.need); err != nil {
					// This CPU cannot run it: forcing it must be refused.
					if _, err := ForceKernel(tc.value); !errors.Is(err, blas.ErrKernelUnsupported) {
						t.Fatalf("ForceKernel(%q) on a CPU without it: %v, want ErrKernelUnsupported", tc.value, err)
					}
					return
				}
			}
			name, err := ForceKernel(tc.value)
			if err != nil || name != tc.want {
				t.Fatalf("ForceKernel(%q) = %q, %v; want %q", tc.value, name, err, tc.want)
			}
			if got := Configure(Settings{Threads: 1}); got != tc.want {
				t.Fatalf("Configure: kernel %q, want %q", got, tc.want)
			}
			if tc.optim != "" && optim.KernelName() != tc.optim {
				t.Fatalf("optimizer kernel %q, want %q", optim.KernelName(), tc.optim)
			}
			if tc.want == blas.KernelAVX2FMA && (optim.KernelName() == "avx512" || data.NormalizeKernel() == "avx512") {
				t.Fatalf("under %s the optimizer kernel is %s and the normalization's %s, want at most avx2", tc.want, optim.KernelName(), data.NormalizeKernel())
			}
			if tc.want == blas.KernelGeneric && data.NormalizeKernel() != "generic" {
				t.Fatalf("normalization kernel %q under generic", data.NormalizeKernel())
			}
			if tc.want != blas.KernelGeneric && optim.KernelName() == "generic" && runtime.GOARCH == "amd64" && tc.need != "" {
				t.Fatalf("optimizer kernel still generic under %s", tc.want)
			}
		})
	}
	ForceKernel("generic")
	for _, bad := range []string{"bogus", "avx"} {
		_, err := ForceKernel(bad)
		if !errors.Is(err, blas.ErrUnknownKernel) || !strings.Contains(err.Error(), `LEPTON_KERNEL="`+bad+`"`) {
			t.Fatalf("ForceKernel(%q): %v", bad, err)
		}
		if got := Configure(Settings{Threads: 1}); got != blas.KernelGeneric {
			t.Fatalf("a bad value changed the kernel to %q", got)
		}
	}
}
