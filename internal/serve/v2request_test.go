package serve

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDecodeInfer(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []float32
		shape   []int64
		id      string
		outputs []string
		err     string // substring of the error; "" for success
	}{
		{name: "flat", body: `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[0,0.5,1]}]}`,
			want: []float32{0, 0.5, 1}, shape: []int64{1, 3}},
		{name: "nested and spaced", body: " {\n\"inputs\" : [ { \"data\" : [[1, 2e0], [-3.5E-1, 4]], \"name\":\"input\", \"shape\":[2,2], \"datatype\":\"FP32\", \"parameters\":{\"a\":1}} ] } ",
			want: []float32{1, 2, -0.35, 4}, shape: []int64{2, 2}},
		{name: "id, outputs and unknown keys", body: `{"id":"r\u00e9q \"1\"","extra":[{"x":null}],"parameters":{"b":true},"outputs":[{"name":"logits","parameters":{}}],"inputs":[{"name":"input","shape":[1],"datatype":"UINT8","data":[7]}]}`,
			want: []float32{7}, shape: []int64{1}, id: `réq "1"`, outputs: []string{"logits"}},
		{name: "truncated", body: `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[0,0.5`, err: "unexpected end of input"},
		{name: "trailing garbage", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[1]}]} x`, err: "after the top-level value"},
		{name: "not an object", body: `[1,2]`, err: "want an object"},
		{name: "empty", body: ``, err: "unexpected end of input"},
		{name: "string in data", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":["1"]}]}`, err: "data: element 0: not a number"},
		{name: "bad number", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[01]}]}`, err: "want ',' or ']'"},
		{name: "leading dot", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[.5]}]}`, err: "not a number"},
		{name: "out of range", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[1e39]}]}`, err: "out of the FP32 range"},
		{name: "negative shape", body: `{"inputs":[{"name":"input","shape":[-1],"datatype":"FP32","data":[1]}]}`, err: "shape[0]: -1 is not a non-negative integer"},
		{name: "two inputs", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[1]},{}]}`, err: "more than one input"},
		{name: "no inputs", body: `{"inputs":[]}`, err: "no input"},
		{name: "missing data", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32"}]}`, err: "data: missing"},
		{name: "missing name", body: `{"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]}`, err: "name: missing"},
		{name: "too many values", body: `{"inputs":[{"name":"input","shape":[5],"datatype":"FP32","data":[1,2,3,4,5]}]}`, err: "too many tensor values"},
		{name: "deep nesting", body: `{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":` + strings.Repeat("[", 40) + `1` + strings.Repeat("]", 40) + `}]}`, err: "nested deeper than"},
		{name: "control character", body: "{\"id\":\"a\x01\",\"inputs\":[]}", err: "control character"},
		{name: "bad escape", body: `{"id":"\x","inputs":[]}`, err: "bad escape"},
		{name: "parameters not an object", body: `{"parameters":[],"inputs":[]}`, err: "parameters: not an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r inferRequest
			err := decodeInfer([]byte(tc.body), &r, 4)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.data, tc.want) || !slices.Equal(r.shape, tc.shape) || string(r.id) != tc.id || !slices.Equal(r.outputs, tc.outputs) {
				t.Fatalf("got data %v shape %v id %q outputs %v", r.data, r.shape, r.id, r.outputs)
			}
		})
	}
	var r inferRequest
	err := decodeInfer([]byte(`{"inputs":[{"name":"input","shape":[5],"datatype":"FP32","data":[1,2,3,4,5]}]}`), &r, 4)
	if !errors.Is(err, errTooManyValues) {
		t.Fatalf("error %v does not wrap errTooManyValues", err)
	}
}

// TestNumberFloat32 checks the fast number conversion against strconv on
// hand-picked and random numbers, including halfway cases.
func TestNumberFloat32(t *testing.T) {
	cases := []string{"0", "-0", "1", "0.5", "0.003921569", "1e-7", "123456789", "3.4028235e38", "3.4028236e38",
		"1.17549435e-38", "1e-45", "1e-46", "16777217", "0.1", "-2.5e-3", "33554433", "1.0000000596046448",
		"9007199254740993", "12345678901234567890", "0.000000000000000000000000001"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40000 {
		switch rng.IntN(4) {
		case 0:
			cases = append(cases, strconv.FormatFloat(float64(rng.Float32()), 'g', -1, 32))
		case 1:
			cases = append(cases, strconv.FormatFloat(rng.Float64()*math.Pow(10, float64(rng.IntN(30)-15)), 'g', -1, 64))
		case 2: // float32 midpoints, the double-rounding trap
			f := rng.Float32() + 1
			next := math.Nextafter32(f, 2)
			cases = append(cases, strconv.FormatFloat((float64(f)+float64(next))/2, 'g', -1, 64))
		default: // pixels next to midpoints, cut to 12..15 decimals: the fast multiplication's window
			f := rng.Float32()
			mid := (float64(f) + float64(math.Nextafter32(f, 2))) / 2
			cases = append(cases, strconv.FormatFloat(mid, 'f', 12+rng.IntN(4), 64))
		}
	}
	for _, c := range cases {
		s := &scanner{b: []byte(c)}
		n, err := s.number()
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		got, ok := n.float32()
		checkPlain(t, c)
		want, werr := strconv.ParseFloat(c, 32)
		if werr != nil {
			if ok {
				t.Errorf("%s: got %v, strconv says %v", c, got, werr)
			}
			continue
		}
		if !ok || math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Errorf("%s: got %v (ok %v), want %v", c, got, ok, float32(want))
		}
	}
}

// checkPlain checks that the plain-number fast paths, when they take a
// number, read all of it and agree with strconv.
func checkPlain(t *testing.T, in string) {
	t.Helper()
	checkPixel(t, in)
	s := &scanner{b: []byte(in)}
	v, ok := s.plainFloat32()
	if !ok {
		if s.i != 0 {
			t.Fatalf("%q: plainFloat32 declined but moved to %d", in, s.i)
		}
		return
	}
	want, err := strconv.ParseFloat(in[:s.i], 32)
	if err != nil || s.i != len(in) || math.Float32bits(v) != math.Float32bits(float32(want)) {
		t.Fatalf("%q: plainFloat32 read %q as %v; strconv %v %v", in, in[:s.i], v, float32(want), err)
	}
}

func FuzzNumberFloat32(f *testing.F) {
	for _, s := range []string{"0.5", "1e-7", "16777217", "1.00000017881393432617187499", "-0.0", " 0",
		"0.5019608", "0.34117648", "-0.003921569", "0.123456789012345", "0.500000029802322"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := &scanner{b: []byte(in)}
		n, err := s.number()
		if err != nil || string(n.raw) != in {
			return
		}
		got, ok := n.float32()
		checkPlain(t, in)
		want, werr := strconv.ParseFloat(in, 32)
		if werr != nil {
			if ok {
				t.Fatalf("%q: got %v, strconv says %v", in, got, werr)
			}
			return
		}
		if !ok || math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("%q: got %v, want %v", in, got, float32(want))
		}
	})
}

// depth returns the deepest nesting of brackets in b, ignoring strings
// only roughly (enough to skip inputs deeper than the scanner's limit).
func depth(b []byte) int {
	d, most := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			d++
			most = max(most, d)
		case ']', '}':
			d--
		}
	}
	return most
}

// FuzzScanner checks that the scanner accepts exactly the documents that
// encoding/json accepts, and that decodeInfer reads the same numbers.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[0.25,[1e3]]}]}`,
		`{"a":[true,false,null,"x\u0041\n"],"b":{"c":-0.0e+1}}`,
		`[1,2`, `{"a" 1}`, `"\ud800"`, "\"\"\x00", `{"inputs":[{"name":"input","data":[01]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if depth(b) >= maxJSONDepth {
			return
		}
		s := &scanner{b: b}
		err := s.skip()
		if err == nil {
			err = s.end()
		}
		if valid := json.Valid(b); valid != (err == nil) {
			t.Fatalf("%q: scanner error %v, json.Valid %v", b, err, valid)
		}
		var r inferRequest
		if decodeInfer(b, &r, 1<<20) != nil {
			return
		}
		var std struct {
			Inputs []struct {
				Data any `json:"data"`
			} `json:"inputs"`
		}
		if err := json.Unmarshal(b, &std); err != nil || len(std.Inputs) != 1 {
			t.Fatalf("%q: decodeInfer succeeded, encoding/json: %v, %d inputs", b, err, len(std.Inputs))
		}
		var flat []float32
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case []any:
				for _, e := range v {
					walk(e)
				}
			case float64:
				flat = append(flat, float32(v))
			}
		}
		walk(std.Inputs[0].Data)
		if len(flat) != len(r.data) {
			t.Fatalf("%q: %d values, encoding/json %d", b, len(r.data), len(flat))
		}
	})
}

// checkPixel checks pixelAt on in followed by enough bytes for its
// eight-byte loads (each byte that can follow a number in an array, and
// digits after a comma): when it takes the number it must read exactly
// in and agree with strconv.
func checkPixel(t *testing.T, in string) {
	t.Helper()
	for _, tail := range []string{",", "]", " ", "\n", ",12345678901234567890", "]}]}"} {
		b := []byte(in + strings.Repeat(tail, pixelSlack))
		for _, at := range []int{0, 3} { // also not at the start of b
			buf := append([]byte("[1,"[:at]), b...)
			v, next, ok := pixelAt(buf, at)
			if !ok {
				continue
			}
			want, err := strconv.ParseFloat(in, 32)
			if err != nil || next != at+len(in) || math.Float32bits(v) != math.Float32bits(float32(want)) {
				t.Fatalf("%q+%q: pixelAt read %q as %v; strconv %v %v", in, tail, buf[at:next], v, float32(want), err)
			}
		}
	}
}

func TestEightDigits(t *testing.T) {
	tests := []struct {
		in    string
		n     int
		value uint64
	}{
		{"12345678", 8, 12345678},
		{"00000000", 8, 0},
		{"99999999", 8, 99999999},
		{"0123,567", 4, 123},
		{"5,000000", 1, 5},
		{",1234567", 0, 0},
		{"1234567]", 7, 1234567},
		{"9/:09/:0", 1, 9}, // '/' and ':' sit either side of the digits
		{"1\xb0\x39\x392345", 1, 1},
		{"8e100000", 1, 8},
		{"0000001.", 7, 1},
	}
	for _, tc := range tests {
		n, v := eightDigits(binary.LittleEndian.Uint64([]byte(tc.in)))
		if n != tc.n || v != tc.value {
			t.Errorf("eightDigits(%q) = %d, %d; want %d, %d", tc.in, n, v, tc.n, tc.value)
		}
	}
	// Every byte value in every position.
	for pos := range 8 {
		for c := range 256 {
			b := []byte("12345678")
			b[pos] = byte(c)
			n, v := eightDigits(binary.LittleEndian.Uint64(b))
			wantN := 0
			for wantN < 8 && '0' <= b[wantN] && b[wantN] <= '9' {
				wantN++
			}
			wantV, _ := strconv.ParseUint(string(b[:wantN]), 10, 64)
			if n != wantN || v != wantV {
				t.Fatalf("eightDigits(%q) = %d, %d; want %d, %d", b, n, v, wantN, wantV)
			}
		}
	}
}

// TestDecodeNumbers decodes numbers of every kind through the fast paths
// (data first, so that plenty of the body follows each number) and the
// slow ones, and checks each against strconv, or the error.
func TestDecodeNumbers(t *testing.T) {
	body := func(data string) []byte {
		return []byte(`{"inputs":[{"data":[` + data + `],"name":"input","shape":[1,1],"datatype":"FP32"}],"parameters":{"pad":"` +
			strings.Repeat(" ", 40) + `"}}`)
	}
	good := []string{"0", "1", "9", "-0", "-0.0", "0.0", "0.5019608", "0.34117648", "0.003921569", "-0.25",
		"0.123456789012345", "0.1234567890123456", "0.12345678901234567", "1.0000000596046448", "1.00000017881393432617187499",
		"1e0", "2.5E-1", "-3.5e+2", "1E-7", "10", "255", "123456789", "16777217", "3.4028235e38", "-3.4028235e38",
		"1.17549435e-38", "1.1754942e-38", "1e-45", "1.4e-45", "7e-46", "1e-46", "0.0000000000000000000000000000000000000000000001",
		"0.99999999999999999999", "3.4028235677973366e38"}
	for _, in := range good {
		var r inferRequest
		if err := decodeInfer(body(in+","+in), &r, 10); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want, err := strconv.ParseFloat(in, 32)
		if err != nil {
			t.Fatalf("%s: strconv: %v", in, err)
		}
		for _, got := range r.data {
			if math.Float32bits(got) != math.Float32bits(float32(want)) {
				t.Errorf("%s: got %v (bits %#x), want %v (bits %#x)", in, got, math.Float32bits(got), float32(want), math.Float32bits(float32(want)))
			}
		}
		if len(r.data) != 2 {
			t.Errorf("%s: %d values", in, len(r.data))
		}
	}
	bad := map[string]string{
		"1e39":         "out of the FP32 range",
		"-3.5e38":      "out of the FP32 range",
		"3.4028236e38": "out of the FP32 range",
		"1e400":        "out of the FP32 range",
		"NaN":          "not a number",
		"Infinity":     "not a number",
		"-Infinity":    "want a digit",
		"nan":          "not a number",
		"1.":           "want a digit after '.'",
		"1.e5":         "want a digit after '.'",
		"1e":           "want a digit in the exponent",
		"01":           "want ',' or ']'",
		"-":            "want a digit",
		"+1":           "not a number",
		".5":           "not a number",
		"0x10":         "want ',' or ']'",
		"1,,2":         "not a number",
		"0.5 0.5":      "want ',' or ']'",
	}
	for in, want := range bad {
		var r inferRequest
		err := decodeInfer(body(in), &r, 10)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", in, err, want)
		}
	}
}
