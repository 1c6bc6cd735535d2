package serve

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unsafe"
)

// number is a JSON number as read: its text and, when it has at most 19
// significant digits, its decimal mantissa and exponent.
type number struct {
	raw  []byte
	mant uint64
	exp  int // value = ±mant * 10^exp
	neg  bool
	big  bool // more than 19 digits or a huge exponent: use strconv
}

// number reads a number following RFC 8259's grammar exactly.
func (s *scanner) number() (number, error) {
	s.ws()
	b := s.b
	start, i := s.i, s.i
	var (
		mant uint64
		exp  int
		neg  bool
		big  bool
	)
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			if mant < 1e18 {
				mant = mant*10 + uint64(d)
			} else {
				big = true
			}
		}
	default:
		s.i = i
		return number{}, s.unexpected("a digit")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i]-'0' > 9 {
			s.i = i
			return number{}, s.unexpected("a digit after '.'")
		}
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			if mant < 1e18 {
				mant = mant*10 + uint64(d)
			} else {
				big = true
			}
			exp--
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i >= len(b) || b[i]-'0' > 9 {
			s.i = i
			return number{}, s.unexpected("a digit in the exponent")
		}
		e := 0
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			if e < 10000 {
				e = e*10 + int(d)
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	s.i = i
	return number{raw: b[start:i], mant: mant, exp: exp, neg: neg, big: big}, nil
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// float32 returns the number rounded to the nearest float32, exactly as
// strconv.ParseFloat(raw, 32) does, and false when it is out of float32's
// range.
//
// The fast path is Clinger's: a mantissa below 2^53 times an exactly
// representable power of ten gives the correctly rounded float64 in one
// operation. Rounding that float64 to float32 is then correct unless it
// lies exactly halfway between two float32s (a float32 midpoint is a
// float64, so the true value cannot be on the other side of one without the
// float64 being that midpoint); those and subnormals go to strconv.
func (n number) float32() (float32, bool) {
	if !n.big {
		if f, ok := fastFloat32(n.mant, n.exp, n.neg); ok {
			return f, true
		}
	}
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(n.raw), len(n.raw)), 32)
	if err != nil {
		return 0, false // only ErrRange: the grammar was checked
	}
	return float32(v), true
}

// fastFloat32 is the fast path of number.float32: false when strconv must
// decide.
func fastFloat32(mant uint64, exp int, neg bool) (float32, bool) {
	if mant >= 1<<53 || exp < -22 || exp > 22 {
		return 0, false
	}
	f := float64(mant)
	if exp < 0 {
		f /= pow10[-exp]
	} else {
		f *= pow10[exp]
	}
	if f == 0 {
		if neg {
			return float32(math.Copysign(0, -1)), true
		}
		return 0, true
	}
	const low = 1<<29 - 1 // float64 bits below float32's precision
	if math.Float64bits(f)&low == 1<<28 || f < 0x1p-126 || f > math.MaxFloat32 {
		return 0, false
	}
	if neg {
		f = -f
	}
	return float32(f), true
}

// pixelSlack is how many bytes pixelAt needs left in the body: its two
// eight-byte loads and the byte after the longest number it takes.
const pixelSlack = 20

// pixels reads a run of comma-separated numbers at s.i with pixelAt,
// appending them to data while it holds fewer than max, and leaves s.i
// after the last one read. It is the hot loop of a request: the position
// stays in a register. ok is false, with s.i unchanged, when it read none.
func (s *scanner) pixels(data []float32, max int) (out []float32, ok bool) {
	b, i := s.b, s.i
	end, n := i, len(data)
	for len(data) < max {
		v, next, ok := pixelAt(b, i)
		if !ok {
			break
		}
		data = append(data, v)
		end = next
		if b[next] != ',' {
			break
		}
		i = next + 1
	}
	s.i = end
	return data, len(data) > n
}

// pixelAt is the fastest number reader, for what clients send as pixels:
// one integer digit, optionally a fraction of at most 15 digits, no
// exponent ("0", "1", "0.5019608", "-0.25"). It reads the fraction with
// two eight-byte loads and converts it with a multiplication instead of a
// division, and returns the value and the index after the number, which is
// within b. ok is false for any other number, within pixelSlack bytes of
// the end of b, and when the result needs a closer look; plainFloat32,
// number and float32 then decide.
func pixelAt(b []byte, i int) (v float32, next int, ok bool) {
	if i+pixelSlack > len(b) {
		return 0, 0, false
	}
	neg := b[i] == '-'
	if neg {
		i++
	}
	d0 := uint64(b[i] - '0')
	if d0 > 9 {
		return 0, 0, false
	}
	switch c := b[i+1]; {
	case c == '.':
		n, frac := eightDigits(binary.LittleEndian.Uint64(b[i+2:]))
		if n == 0 {
			return 0, 0, false
		}
		mant := d0*pow10u[n] + frac
		if n == 8 {
			n2, frac2 := eightDigits(binary.LittleEndian.Uint64(b[i+10:]))
			if n2 == 8 {
				return 0, 0, false
			}
			mant, n = mant*pow10u[n2]+frac2, n+n2
		}
		i += 2 + n
		if b[i]|0x20 == 'e' {
			return 0, 0, false
		}
		if v, ok = fracFloat32(mant, n); !ok {
			return 0, 0, false
		}
	case c-'0' <= 9 || c|0x20 == 'e':
		return 0, 0, false
	default:
		v = float32(d0)
		i++
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// pow10neg[k] is 10^-k rounded to the nearest float64.
var pow10neg = [...]float64{1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10,
	1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16}

// fracFloat32 returns mant * 10^-k (k <= 16) rounded to the nearest
// float32, or false when the fast computation cannot tell.
//
// float64(mant) is exact below 2^53 and 10^-k is rounded once, so the
// product is within 1.5 float64 ulps of the true value; rounding it to
// float32 gives the correctly rounded result unless a float32 midpoint
// lies within that distance, i.e. unless the 29 float64 bits below
// float32's precision are within 4 of the midpoint pattern 1<<28 (a
// midpoint is never near a power of two, where the ulp changes). Those
// rare cases, zero's sign aside, go to fastFloat32's exact division, and
// subnormal results to strconv.
func fracFloat32(mant uint64, k int) (float32, bool) {
	if mant >= 1<<53 {
		return 0, false
	}
	f := float64(mant) * pow10neg[k]
	const low = 1<<29 - 1
	if d := math.Float64bits(f)&low - (1<<28 - 4); d <= 8 || f < 0x1p-126 {
		if f == 0 {
			return 0, true
		}
		return fastFloat32(mant, -k, false)
	}
	return float32(f), true
}

// plainFloat32 reads, at s.i, a number without exponent of at most 19
// digits (what clients send for pixels) and converts it; ok is false, with
// s.i unchanged, for anything else, which number and float32 then handle.
func (s *scanner) plainFloat32() (v float32, ok bool) {
	b, i := s.b, s.i
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	mant, i := digitRun(b, i, 0)
	digits := i - start
	if digits == 0 || digits > 1 && b[start] == '0' {
		return 0, false
	}
	exp := 0
	if i < len(b) && b[i] == '.' {
		i++
		frac := i
		mant, i = digitRun(b, i, mant)
		exp = frac - i
		if exp == 0 {
			return 0, false
		}
		digits -= exp
	}
	if digits > 19 || i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		return 0, false
	}
	v, ok = fastFloat32(mant, exp, neg)
	if ok {
		s.i = i
	}
	return v, ok
}

// pow10u holds 10^0 .. 10^8.
var pow10u = [...]uint64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8}

// digitRun reads the decimal digits at b[i:], appending them to mant
// (mant*10^n + their value, wrapping beyond 19 digits, which callers
// refuse), and returns mant and the index after the last digit. It reads
// eight bytes at a time while eight remain (SWAR: SIMD within a register).
func digitRun(b []byte, i int, mant uint64) (uint64, int) {
	for i+8 <= len(b) {
		n, d := eightDigits(binary.LittleEndian.Uint64(b[i:]))
		mant = mant*pow10u[n] + d
		i += n
		if n < 8 {
			return mant, i
		}
	}
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	return mant, i
}

// eightDigits takes eight bytes of text, the first in the lowest byte, and
// returns how many of them, from the first, are decimal digits (0..8) and
// the value of those digits.
func eightDigits(v uint64) (n int, value uint64) {
	const (
		ones  = 0x0101010101010101
		zeros = 0x30 * ones // "00000000"
	)
	x := v ^ zeros // a digit byte becomes its value 0..9
	// A byte is not a digit when its high nibble is set, or when its low
	// nibble is 10..15 (adding 6 carries into bit 4; bytes cannot carry
	// into each other, 0x0f+0x06 < 0x100).
	bad := x&(0xf0*ones) | (x&(0x0f*ones)+0x06*ones)&(0x10*ones)
	n = bits.TrailingZeros64(bad) >> 3 // 8 when every byte is a digit
	if n == 0 {
		return 0, 0
	}
	// Keep the n digits, moved up so that zeros lead: the value of
	// "00012345" is that of "12345".
	x <<= 64 - 8*uint(n)
	// Lemire's eight-digit conversion: pairs, then quads, then all eight.
	x = x*10 + x>>8
	const mask = 0x000000ff000000ff
	x = ((x&mask)*(100+1000000<<32) + (x>>16&mask)*(1+10000<<32)) >> 32
	return n, x & 0xffffffff
}
