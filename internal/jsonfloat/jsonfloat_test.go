package jsonfloat

import (
	"encoding/json"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    float64
		want string
	}{
		{name: "zero", v: 0, want: "0"},
		{name: "fraction", v: 0.1, want: "0.1"},
		{name: "large", v: 1e21, want: "1e+21"},
		{name: "negative", v: -2.5, want: "-2.5"},
		{name: "NaN", v: math.NaN(), want: `"NaN"`},
		{name: "+Inf", v: math.Inf(1), want: `"+Inf"`},
		{name: "-Inf", v: math.Inf(-1), want: `"-Inf"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(Float(tc.v))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("Float(%v) encodes as %s, want %s", tc.v, b, tc.want)
			}
			if plain, err := json.Marshal(tc.v); err == nil && string(plain) != string(b) {
				t.Fatalf("finite %v: %s, encoding/json writes %s", tc.v, b, plain)
			}
			var got Float
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !same(float64(got), tc.v) {
				t.Fatalf("decoded %v, want %v", got, tc.v)
			}
			b32, err := json.Marshal(Float32(tc.v))
			if err != nil {
				t.Fatal(err)
			}
			var got32 Float32
			if err := json.Unmarshal(b32, &got32); err != nil {
				t.Fatal(err)
			}
			if !same(float64(got32), float64(float32(tc.v))) {
				t.Fatalf("Float32 decoded %v from %s, want %v", got32, b32, float32(tc.v))
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{name: "other string", in: `"nan"`},
		{name: "boolean", in: `true`},
		{name: "out of range", in: `1e400`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f Float
			if err := json.Unmarshal([]byte(tc.in), &f); err == nil {
				t.Fatalf("%s decoded as %v", tc.in, f)
			}
		})
	}
	f := Float(3)
	if err := json.Unmarshal([]byte("null"), &f); err != nil || f != 3 {
		t.Fatalf("null: %v, %v; want 3 unchanged", f, err)
	}
}

func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
