//go:build amd64 && !purego

package optim

import "golang.org/x/sys/cpu"

// adamAVX2Asm runs adamGeneric's update on the n floats at p, g, m and v;
// n must be a multiple of 8. See kernel_amd64.s.
//
//go:noescape
func adamAVX2Asm(p, grad, m, v *float32, n int, k *adamConsts)

// sgdAVX2Asm runs sgdGeneric's update on the n floats at p, g and vel; n
// must be a multiple of 8. vel is not accessed without momentum.
//
//go:noescape
func sgdAVX2Asm(p, grad, vel *float32, n int, k *sgdConsts)

// adamAVX512Asm is adamAVX2Asm on blocks of 16 floats; n must be a
// multiple of 16. See kernel512_amd64.s.
//
//go:noescape
func adamAVX512Asm(p, grad, m, v *float32, n int, k *adamConsts)

func init() {
	// x/sys/cpu honours GODEBUG: GODEBUG=cpu.avx2=off selects the generic
	// kernel, GODEBUG=cpu.avx512f=off the AVX2 one.
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 {
		kernels = append(kernels, kernel{name: "avx2", adam: adamAVX2, sgd: sgdAVX2})
		if cpu.X86.HasAVX512F {
			// SGD has no square root or division: the AVX2 loop is
			// limited by memory bandwidth already.
			kernels = append(kernels, kernel{name: "avx512", adam: adamAVX512, sgd: sgdAVX2})
		}
	}
	active = kernels[len(kernels)-1]
}

// adamAVX2 is adamGeneric with the blocks of 8 floats done by adamAVX2Asm.
func adamAVX2(p, g, m, v []float32, k *adamConsts) {
	n := len(p) &^ 7
	if n > 0 {
		_, _, _ = g[len(p)-1], m[len(p)-1], v[len(p)-1]
		adamAVX2Asm(&p[0], &g[0], &m[0], &v[0], n, k)
	}
	adamGeneric(p[n:], g[n:], m[n:], v[n:], k)
}

// adamAVX512 is adamGeneric with the blocks of 16 floats done by
// adamAVX512Asm.
func adamAVX512(p, g, m, v []float32, k *adamConsts) {
	n := len(p) &^ 15
	if n > 0 {
		_, _, _ = g[len(p)-1], m[len(p)-1], v[len(p)-1]
		adamAVX512Asm(&p[0], &g[0], &m[0], &v[0], n, k)
	}
	adamGeneric(p[n:], g[n:], m[n:], v[n:], k)
}

// sgdAVX2 is sgdGeneric with the blocks of 8 floats done by sgdAVX2Asm.
func sgdAVX2(p, g, vel []float32, k *sgdConsts) {
	n := len(p) &^ 7
	if n > 0 {
		_ = g[len(p)-1]
		var vp *float32
		if k.flags&sgdMomentum != 0 {
			_ = vel[len(p)-1]
			vp = &vel[0]
		}
		sgdAVX2Asm(&p[0], &g[0], vp, n, k)
		if vp != nil {
			vel = vel[n:]
		}
	}
	sgdGeneric(p[n:], g[n:], vel, k)
}
