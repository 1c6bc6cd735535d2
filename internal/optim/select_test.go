package optim

import "testing"

// TestUseKernel checks that UseKernel picks the best kernel of this
// machine no wider than asked, and refuses unknown names.
func TestUseKernel(t *testing.T) {
	useKernel(t, active)
	has := map[string]bool{}
	for _, k := range kernels {
		has[k.name] = true
	}
	best := func(names ...string) string {
		for _, n := range names {
			if has[n] {
				return n
			}
		}
		return "generic"
	}
	tests := []struct {
		isa, want string
	}{
		{isa: "generic", want: "generic"},
		{isa: "avx2", want: best("avx2")},
		{isa: "AVX2-FMA", want: best("avx2")},
		{isa: "avx512", want: best("avx512", "avx2")},
		{isa: "avx512-fma", want: best("avx512", "avx2")},
	}
	for _, tc := range tests {
		t.Run(tc.isa, func(t *testing.T) {
			if err := UseKernel(tc.isa); err != nil {
				t.Fatal(err)
			}
			if got := KernelName(); got != tc.want {
				t.Fatalf("UseKernel(%q): kernel %s, want %s", tc.isa, got, tc.want)
			}
		})
	}
	if err := UseKernel("avx2"); err != nil {
		t.Fatal(err)
	}
	before := KernelName()
	if err := UseKernel("sse2"); err == nil {
		t.Fatal("UseKernel(sse2) accepted")
	}
	if KernelName() != before {
		t.Fatalf("a refused name changed the kernel to %s", KernelName())
	}
	UseSIMD(false)
	if KernelName() != "generic" {
		t.Fatalf("UseSIMD(false): kernel %s", KernelName())
	}
	UseSIMD(true)
	if want := kernels[len(kernels)-1].name; KernelName() != want {
		t.Fatalf("UseSIMD(true): kernel %s, want %s", KernelName(), want)
	}
}
