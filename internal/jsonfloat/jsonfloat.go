// Package jsonfloat gives floating-point numbers a JSON form for every
// value: finite numbers are plain JSON numbers (the bytes encoding/json
// writes), and the values JSON numbers cannot express are the strings
// "NaN", "+Inf" and "-Inf", the spelling lepton's checkpoint metadata uses.
// A diverged run's NaN loss must not make its report or checkpoint
// unsaveable, and whatever is saved must read back.
package jsonfloat

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Float is a float64 whose JSON form may be "NaN", "+Inf" or "-Inf".
type Float float64

// Float32 is a float32 whose JSON form may be "NaN", "+Inf" or "-Inf".
type Float32 float32

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	if s, ok := nonFinite(float64(f)); ok {
		return []byte(s), nil
	}
	return json.Marshal(float64(f))
}

// UnmarshalJSON implements json.Unmarshaler.
// JSON null leaves f unchanged, as it does for a plain float64.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := parse(b, 64)
	if err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (f Float32) MarshalJSON() ([]byte, error) {
	if s, ok := nonFinite(float64(f)); ok {
		return []byte(s), nil
	}
	return json.Marshal(float32(f))
}

// UnmarshalJSON implements json.Unmarshaler.
// JSON null leaves f unchanged, as it does for a plain float32.
func (f *Float32) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := parse(b, 32)
	if err != nil {
		return err
	}
	*f = Float32(v)
	return nil
}

// Slice32 converts float32 values for encoding.
func Slice32(v []float32) []Float32 {
	if v == nil {
		return nil
	}
	out := make([]Float32, len(v))
	for i, x := range v {
		out[i] = Float32(x)
	}
	return out
}

// Floats32 converts decoded values back.
func Floats32(v []Float32) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// nonFinite returns the quoted JSON string of a NaN or infinite v.
func nonFinite(v float64) (string, bool) {
	switch {
	case math.IsNaN(v):
		return `"NaN"`, true
	case math.IsInf(v, 1):
		return `"+Inf"`, true
	case math.IsInf(v, -1):
		return `"-Inf"`, true
	}
	return "", false
}

// parse reads a JSON number or one of the strings "NaN", "+Inf", "Inf"
// and "-Inf".
func parse(b []byte, bits int) (float64, error) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "+Inf", "Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("%q is not a number (want a JSON number, \"NaN\", \"+Inf\" or \"-Inf\")", s)
	}
	v, err := strconv.ParseFloat(string(b), bits)
	if err != nil {
		return 0, fmt.Errorf("%s is not a number", b)
	}
	return v, nil
}
