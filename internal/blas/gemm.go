package blas

// Cache-blocking parameters. Together with the problem size they fix the k
// blocks, which (unlike the m and n blocking) change the rounding of the
// result; they never depend on the thread count or on the kernel, so every
// element of C goes through the same floating-point operations whatever
// the parallel split and whichever assembly kernel runs.
const (
	kcMax   = 256  // depth of a packed block
	mcRows  = 144  // rows of a packed A block (a multiple of every mr)
	ncCols  = 2048 // columns of a packed B block (a multiple of every nr)
	kcAlign = 8    // kc blocks are rounded up to this multiple

	maxMR, maxNR = 8, 32 // largest micro-tile of any kernel

	// packSlack spare elements follow the packed A block (see packA).
	packSlack = 8

	// packGroup is the number of B micro-panels packed per pass over the
	// rows of a non-transposed B.
	packGroup = 8

	// panelPad floats separate consecutive packed micro-panels, so that
	// panels are never a multiple of 4 KiB apart (which would make the
	// packing loops, writing to many panels at once, thrash L1 sets).
	panelPad = 16
)

// workspace holds the packing buffers of one thread. Buffers grow on demand
// and are reused across calls, so steady-state calls do not allocate.
type workspace struct {
	ap   []float32 // packed A block: ceil(mc/mr) micro-panels of kc×mr (+pad)
	bp   []float32 // packed B block: ceil(nc/nr) micro-panels of kc×nr (+pad)
	tile [maxMR * maxNR]float32
}

// grow makes sure the packing buffers can hold an mc×kc and a kc×nc block.
func (w *workspace) grow(mc, nc, kc, mr, nr int) {
	if need := ceilDiv(mc, mr)*(kc*mr+panelPad) + packSlack; cap(w.ap) < need {
		w.ap = make([]float32, need)
	}
	if need := ceilDiv(nc, nr) * (kc*nr + panelPad); cap(w.bp) < need {
		w.bp = make([]float32, need)
	}
	w.ap = w.ap[:cap(w.ap)]
	w.bp = w.bp[:cap(w.bp)]
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

func ceilDiv(x, d int) int { return (x + d - 1) / d }

// kcStep returns the depth of the k blocks for a given k: k is cut into
// ceil(k/kcMax) nearly equal blocks. Only k determines it.
func kcStep(k int) int {
	nb := ceilDiv(k, kcMax)
	return roundUp(ceilDiv(k, nb), kcAlign)
}

// gemmArgs describes one (sub-)problem C = alpha*op(A)*op(B) + beta*C in
// row-major storage, with m, n, k > 0 and alpha != 0.
type gemmArgs struct {
	aT, bT  bool
	m, n, k int
	alpha   float32
	a       []float32
	lda     int
	b       []float32
	ldb     int
	beta    float32
	c       []float32
	ldc     int
}

// run computes the blocked product serially with the given workspace.
func (w *workspace) run(kern kernelID, g *gemmArgs) {
	mr, nr := kern.tile()
	simd := kern.simd()
	ks := kcStep(g.k)
	w.grow(min(g.m, mcRows), min(g.n, ncCols), min(g.k, ks), mr, nr)
	for jc := 0; jc < g.n; jc += ncCols {
		nc := min(ncCols, g.n-jc)
		for pc := 0; pc < g.k; pc += ks {
			kc := min(ks, g.k-pc)
			packB(simd, nr, kc*nr+panelPad, w.bp, g.bT, g.b, g.ldb, pc, jc, kc, nc)
			beta, useBeta := g.beta, g.beta != 0
			if pc > 0 {
				beta, useBeta = 1, true
			}
			for ic := 0; ic < g.m; ic += mcRows {
				mc := min(mcRows, g.m-ic)
				packA(simd, mr, kc*mr+panelPad, w.ap, g.aT, g.a, g.lda, ic, pc, mc, kc)
				w.macro(kern, mr, nr, kc, mc, nc, g.alpha, beta, useBeta, g.c[ic*g.ldc+jc:], g.ldc)
			}
		}
	}
}

// macro multiplies the packed mc×kc block of A by the packed kc×nc block of
// B into the mc×nc block of C starting at c[0]. Partial tiles at the edges
// are computed into a scratch tile (loaded from C when beta is used) by the
// same kernel, so their arithmetic is identical to the full-tile path.
func (w *workspace) macro(kern kernelID, mr, nr, kc, mc, nc int, alpha, beta float32, useBeta bool, c []float32, ldc int) {
	for jr := 0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		bo := (jr / nr) * (kc*nr + panelPad)
		bpan := w.bp[bo : bo+kc*nr]
		for ir := 0; ir < mc; ir += mr {
			mrr := min(mr, mc-ir)
			ao := (ir / mr) * (kc*mr + panelPad)
			apan := w.ap[ao : ao+kc*mr]
			ct := c[ir*ldc+jr:]
			if mrr == mr && nrr == nr {
				runKernel(kern, kc, apan, bpan, ct, ldc, alpha, beta, useBeta)
				continue
			}
			t := w.tile[:mr*nr]
			if useBeta {
				for r := 0; r < mrr; r++ {
					copy(t[r*nr:r*nr+nrr], ct[r*ldc:r*ldc+nrr])
				}
			}
			runKernel(kern, kc, apan, bpan, t, nr, alpha, beta, useBeta)
			for r := 0; r < mrr; r++ {
				copy(ct[r*ldc:r*ldc+nrr], t[r*nr:r*nr+nrr])
			}
		}
	}
}

// runKernel dispatches one full micro-tile to the kernel.
func runKernel(kern kernelID, kc int, a, b, c []float32, ldc int, alpha, beta float32, useBeta bool) {
	switch kern {
	case kernAVX512:
		kernelAVX512(kc, a, b, c, ldc, alpha, beta, useBeta)
	case kernAVX2:
		kernelAVX2(kc, a, b, c, ldc, alpha, beta, useBeta)
	default:
		kernelGeneric(kc, a, b, c, ldc, alpha, beta, useBeta)
	}
}

// packA packs rows [i0, i0+mc) and depth [p0, p0+kc) of op(A) into
// micro-panels of mr rows, ps floats apart: within a panel, step p holds
// op(A)[i..i+mr, p] contiguously. Rows past mc are zero-filled. dst must have packSlack spare
// elements past the last panel (the AVX2 transposer spills into them).
func packA(simd bool, mr, ps int, dst []float32, aT bool, a []float32, lda, i0, p0, mc, kc int) {
	full := mc / mr
	if simd && full > 0 {
		if aT {
			// op(A)[i, p] = a[p*lda+i]: stream each source row into all
			// the full panels at once.
			_ = a[(p0+kc-1)*lda+i0+full*mr-1]
			_ = dst[(full-1)*ps+kc*mr-1]
			packRowsAVX2(mr, kc, &a[p0*lda+i0], lda, full, &dst[0], ps)
		} else if blocks := kc / 8; blocks > 0 {
			// op(A)[i, p] = a[i*lda+p]: transpose 8-column blocks of mr
			// rows, then finish the last kc%8 steps below.
			_ = dst[(full-1)*ps+blocks*8*mr+packSlack-1]
			for q := 0; q < full; q++ {
				i := i0 + q*mr
				_ = a[(i+mr-1)*lda+p0+blocks*8-1]
				transpose8AVX2(&a[i*lda+p0], lda, mr, blocks, &dst[q*ps], mr)
			}
			for q := 0; q < full; q++ {
				packAGo(mr, dst[q*ps:q*ps+kc*mr], aT, a, lda, i0+q*mr, mr, p0, blocks*8, kc)
			}
		} else {
			full = 0
		}
	} else {
		full = 0
	}
	for ir := full * mr; ir < mc; ir += mr {
		packAGo(mr, dst[(ir/mr)*ps:(ir/mr)*ps+kc*mr], aT, a, lda, i0+ir, min(mr, mc-ir), p0, 0, kc)
	}
}

// packAGo packs steps [from, kc) of one micro-panel of op(A) starting at
// row i with mrr valid rows (the others are zero-filled).
func packAGo(mr int, d []float32, aT bool, a []float32, lda, i, mrr, p0, from, kc int) {
	for p := from; p < kc; p++ {
		dp := d[p*mr : p*mr+mr : p*mr+mr]
		if aT {
			copy(dp, a[(p0+p)*lda+i:(p0+p)*lda+i+mrr])
		} else {
			for r := 0; r < mrr; r++ {
				dp[r] = a[(i+r)*lda+p0+p]
			}
		}
		clear(dp[mrr:])
	}
}

// packB packs depth [p0, p0+kc) and columns [j0, j0+nc) of op(B) into
// micro-panels of nr columns, ps floats apart: within a panel, step p holds
// op(B)[p, j..j+nr] contiguously. Columns past nc are zero-filled.
func packB(simd bool, nr, ps int, dst []float32, bT bool, b []float32, ldb, p0, j0, kc, nc int) {
	full := nc / nr
	if simd && full > 0 {
		if !bT {
			// op(B)[p, j] = b[p*ldb+j]: stream source rows into groups of
			// packGroup panels.
			_ = b[(p0+kc-1)*ldb+j0+full*nr-1]
			_ = dst[(full-1)*ps+kc*nr-1]
			for q := 0; q < full; q += packGroup {
				np := min(packGroup, full-q)
				packRowsAVX2(nr, kc, &b[p0*ldb+j0+q*nr], ldb, np, &dst[q*ps], ps)
			}
		} else if blocks := kc / 8; blocks > 0 {
			// op(B)[p, j] = b[j*ldb+p]: transpose 8×8 blocks of nr rows of
			// b, then finish the last kc%8 steps below.
			_ = dst[(full-1)*ps+kc*nr-1]
			for q := 0; q < full; q++ {
				j := j0 + q*nr
				_ = b[(j+nr-1)*ldb+p0+blocks*8-1]
				for h := 0; h < nr; h += 8 {
					transpose8AVX2(&b[(j+h)*ldb+p0], ldb, 8, blocks, &dst[q*ps+h], nr)
				}
				packBGo(nr, dst[q*ps:q*ps+kc*nr], bT, b, ldb, j, nr, p0, blocks*8, kc)
			}
		} else {
			full = 0
		}
	} else {
		full = 0
	}
	for jr := full * nr; jr < nc; jr += nr {
		packBGo(nr, dst[(jr/nr)*ps:(jr/nr)*ps+kc*nr], bT, b, ldb, j0+jr, min(nr, nc-jr), p0, 0, kc)
	}
}

// packBGo packs steps [from, kc) of one micro-panel of op(B) starting at
// column j with nrr valid columns (the others are zero-filled).
func packBGo(nr int, d []float32, bT bool, b []float32, ldb, j, nrr, p0, from, kc int) {
	if bT {
		for c := 0; c < nrr; c++ {
			row := b[(j+c)*ldb+p0 : (j+c)*ldb+p0+kc]
			for p := from; p < kc; p++ {
				d[p*nr+c] = row[p]
			}
		}
		if nrr < nr {
			for p := from; p < kc; p++ {
				clear(d[p*nr+nrr : p*nr+nr])
			}
		}
		return
	}
	for p := from; p < kc; p++ {
		dp := d[p*nr : p*nr+nr : p*nr+nr]
		copy(dp, b[(p0+p)*ldb+j:(p0+p)*ldb+j+nrr])
		clear(dp[nrr:])
	}
}
