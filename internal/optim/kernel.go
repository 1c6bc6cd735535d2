package optim

import (
	"fmt"
	"math"

	"github.com/lepton-cli/lepton/internal/isa"
)

// The element-wise updates are done by kernels: a portable Go loop and, on
// amd64 with AVX2 or AVX-512, assembly versions of it (kernel_amd64.go). Every
// kernel performs, on every element, exactly the same sequence of float32
// operations as the Go loop, each rounded to float32 (no fused
// multiply-add: the Go loops convert every product to float32 explicitly,
// which forbids fusion on all architectures, and the assembly uses separate
// multiplies and adds), so all kernels give bit-identical results. Only the
// payload of a NaN produced from two NaN operands may differ.

// adamConsts are the per-tensor float32 factors of an Adam(W) update.
// The assembly reads them by offset: keep the field order and types.
type adamConsts struct {
	shrink float32 // 1 - lr*WeightDecay for decoupled decay, else 1
	wd     float32 // L2 coefficient added to the gradient (0 for AdamW)
	b1     float32 // Beta1
	omb1   float32 // 1 - Beta1
	b2     float32 // Beta2
	omb2   float32 // 1 - Beta2
	step   float32 // lr / (1 - Beta1^t)
	invS   float32 // 1 / sqrt(1 - Beta2^t)
	eps    float32 // Eps
}

// sgdConsts are the per-tensor float32 factors of an SGD update. The
// assembly reads them by offset: keep the field order and types.
type sgdConsts struct {
	wd    float32 // L2 coefficient added to the gradient
	mu    float32 // momentum
	rate  float32 // learning rate
	_     float32
	flags int // sgdMomentum | sgdFirst | sgdNesterov
}

// Bits of sgdConsts.flags.
const (
	sgdMomentum = 1 << iota // momentum != 0: update the velocity
	sgdFirst                // first step: the velocity becomes the gradient
	sgdNesterov             // Nesterov momentum
)

// kernel is one implementation of the element-wise updates. adam and sgd
// process whole slices of equal lengths (vel is unused without momentum).
type kernel struct {
	name string
	adam func(p, g, m, v []float32, k *adamConsts)
	sgd  func(p, g, vel []float32, k *sgdConsts)
}

// genericKernel is the portable Go implementation, the reference for the
// others.
var genericKernel = kernel{name: "generic", adam: adamGeneric, sgd: sgdGeneric}

// kernels lists the kernels usable on this machine, the portable one first
// and the preferred one last; kernel_amd64.go appends the assembly ones.
var kernels = []kernel{genericKernel}

// active is the kernel used by the optimizers: the last entry of kernels,
// set at initialization ("avx512" on amd64 machines with AVX-512, "avx2"
// on those with AVX2 only, unless built with the purego tag, else
// "generic"). Tests switch it to compare the
// kernels.
var active = genericKernel

// adamGeneric applies one Adam(W) update with the factors k to p, m and v
// (PyTorch's order of operations, with a multiplication by the reciprocal
// of sqrt(1 - Beta2^t) instead of a division):
//
//	p *= shrink
//	g' = g + wd*p
//	m = b1*m + (1-b1)*g'
//	v = b2*v + ((1-b2)*g')*g'
//	p -= (step*m) / (sqrt(v)*invS + eps)
func adamGeneric(p, g, m, v []float32, k *adamConsts) {
	if len(p) == 0 {
		return
	}
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	shrink, wd, b1, omb1, b2, omb2 := k.shrink, k.wd, k.b1, k.omb1, k.b2, k.omb2
	step, invS, eps := k.step, k.invS, k.eps
	for j := range p {
		pj := float32(p[j] * shrink)
		gj := g[j] + float32(wd*pj)
		mj := float32(b1*m[j]) + float32(omb1*gj)
		vj := float32(b2*v[j]) + float32(float32(omb2*gj)*gj)
		denom := float32(float32(math.Sqrt(float64(vj)))*invS) + eps
		m[j], v[j] = mj, vj
		p[j] = pj - float32(step*mj)/denom
	}
}

// sgdGeneric applies one SGD update with the factors k to p and vel:
//
//	g' = g + wd*p
//	with momentum: vel = g' on the first step, else mu*vel + g';
//	               g' = g' + mu*vel (Nesterov) or vel
//	p -= rate*g'
func sgdGeneric(p, g, vel []float32, k *sgdConsts) {
	if len(p) == 0 {
		return
	}
	g = g[:len(p)]
	wd, mu, rate := k.wd, k.mu, k.rate
	if k.flags&sgdMomentum == 0 {
		for j := range p {
			p[j] -= float32(rate * (g[j] + float32(wd*p[j])))
		}
		return
	}
	vel = vel[:len(p)]
	first, nesterov := k.flags&sgdFirst != 0, k.flags&sgdNesterov != 0
	for j := range p {
		gj := g[j] + float32(wd*p[j])
		vj := gj
		if !first {
			vj = float32(mu*vel[j]) + gj
		}
		vel[j] = vj
		if nesterov {
			gj += float32(mu * vj)
		} else {
			gj = vj
		}
		p[j] -= float32(rate * gj)
	}
}

// UseSIMD selects the optimizers' kernel: with on, the preferred one (the
// last of kernels, as at initialization); without, the portable Go loops.
// All kernels give bit-identical results, so this only rules out assembly
// (LEPTON_KERNEL=generic). Call it before training, not concurrently with
// an update.
func UseSIMD(on bool) {
	name := "generic"
	if on {
		name = "avx512"
	}
	_ = UseKernel(name) // a known name: no error
}

// UseKernel selects the best of this machine's kernels that uses no wider
// instructions than name: "avx512" (any), "avx2" (AVX2 at most) or "generic"
// (the portable Go loops). A "-fma" suffix, as in the matrix multiply's
// kernel names, is ignored, so LEPTON_KERNEL=avx2 keeps the optimizers on
// AVX2 too. All kernels give bit-identical results. It fails, changing
// nothing, on another name. Call it before training, not concurrently with
// an update.
func UseKernel(name string) error {
	rank, ok := isa.Rank(name)
	if !ok {
		return fmt.Errorf("optimizer kernel %q: unknown (want avx512, avx2 or generic)", name)
	}
	k := genericKernel
	for _, c := range kernels {
		if r, _ := isa.Rank(c.name); r <= rank {
			k = c // kernels are in increasing order
		}
	}
	if active.name != k.name { // no write in the usual case
		active = k
	}
	return nil
}

// KernelName reports the optimizers' kernel: "avx512", "avx2" or "generic".
func KernelName() string { return active.name }
