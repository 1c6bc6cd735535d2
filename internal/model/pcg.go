package model

import (
	"math/bits"
	"math/rand/v2"
)

// u128 is an unsigned 128-bit integer; arithmetic on it is modulo 2^128.
type u128 struct{ hi, lo uint64 }

func (a u128) mul(b u128) u128 {
	hi, lo := bits.Mul64(a.lo, b.lo)
	return u128{hi + a.hi*b.lo + a.lo*b.hi, lo}
}

func (a u128) add(b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, c)
	return u128{hi, lo}
}

// The LCG of math/rand/v2's PCG: state = state*pcgMul + pcgInc.
var (
	pcgMul = u128{2549297995355413924, 4865540595714422341}
	pcgInc = u128{6364136223846793005, 1442695040888963407}
)

// pcgAt returns rand.NewPCG(seed1, seed2) advanced past its first n
// values, in O(log n) steps (Brown's "random number generation with
// arbitrary strides"): the generator's state after n steps is
// mult*state + plus for mult and plus computed by repeated squaring of one
// step. TestPCGAt checks it against the standard library's generator.
func pcgAt(seed1, seed2, n uint64) *rand.PCG {
	mult, plus := u128{0, 1}, u128{}
	curMult, curPlus := pcgMul, pcgInc
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			mult = mult.mul(curMult)
			plus = plus.mul(curMult).add(curPlus)
		}
		curPlus = curMult.add(u128{0, 1}).mul(curPlus)
		curMult = curMult.mul(curMult)
	}
	// A PCG's seed is its state (rand.NewPCG sets the state to the seed).
	s := mult.mul(u128{seed1, seed2}).add(plus)
	return rand.NewPCG(s.hi, s.lo)
}
