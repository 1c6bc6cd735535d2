package serve

import (
	"math"
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
	var mant uint64
	start := i
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	digits := i - start
	if digits == 0 || digits > 1 && b[start] == '0' {
		return 0, false
	}
	exp := 0
	if i < len(b) && b[i] == '.' {
		i++
		frac := i
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
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
