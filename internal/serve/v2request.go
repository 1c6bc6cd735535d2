package serve

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Tensor names and data types of the V2 inference protocol as lepton
// serves them.
const (
	inputName    = "input"
	outputProbs  = "probabilities"
	outputLogits = "logits"
	typeFP32     = "FP32"
	typeUINT8    = "UINT8"
)

// inferRequest is a decoded V2 inference request: its one input tensor and
// the outputs asked for. Its slices are reused between requests.
type inferRequest struct {
	id       []byte // decoded "id", nil when absent
	hasID    bool
	name     string
	datatype string
	shape    []int64
	data     []float32 // the input's elements, flattened in row-major order
	outputs  []string  // requested output names, nil: the default
	sawInput bool
}

// reset empties r for reuse, keeping its buffers.
func (r *inferRequest) reset() {
	r.id, r.hasID, r.name, r.datatype, r.sawInput = r.id[:0], false, "", "", false
	r.shape, r.data, r.outputs = r.shape[:0], r.data[:0], r.outputs[:0]
}

// errTooManyValues is returned when a tensor holds more elements than the
// limit; the server answers 413.
var errTooManyValues = errors.New("too many tensor values")

// decodeInfer parses a V2 inference request body into r. maxValues bounds
// the number of tensor elements. Errors name the field at fault.
func decodeInfer(body []byte, r *inferRequest, maxValues int) error {
	r.reset()
	s := &scanner{b: body}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			id, err := s.str()
			if err != nil {
				return fmt.Errorf("id: %w", err)
			}
			r.id, r.hasID = append(r.id[:0], id...), true
		case "inputs":
			return s.array(func(i int) error {
				if i > 0 {
					return errors.New(`inputs: more than one input; the model takes one, "input"`)
				}
				r.sawInput = true
				if err := decodeInput(s, r, maxValues); err != nil {
					return fmt.Errorf("inputs[0].%w", err)
				}
				return nil
			})
		case "outputs":
			if r.outputs == nil {
				r.outputs = make([]string, 0, 2)
			}
			return s.array(func(i int) error {
				var name string
				err := s.object(func(key []byte) error {
					if string(key) != "name" {
						return s.skip()
					}
					v, err := s.str()
					name = string(v)
					return err
				})
				if err != nil {
					return fmt.Errorf("outputs[%d]: %w", i, err)
				}
				r.outputs = append(r.outputs, name)
				return nil
			})
		case "parameters":
			if s.peek() != '{' {
				return errors.New("parameters: not an object")
			}
			return s.skip()
		default:
			return s.skip()
		}
		return nil
	})
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return err
	}
	if !r.sawInput {
		return errors.New(`no input: want "inputs": [{"name": "input", ...}]`)
	}
	return nil
}

// decodeInput parses one $request_input object.
func decodeInput(s *scanner, r *inferRequest, maxValues int) error {
	var sawShape, sawType, sawData bool
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "name":
			v, err := s.str()
			if err != nil {
				return fmt.Errorf("name: %w", err)
			}
			r.name = string(v)
		case "datatype":
			v, err := s.str()
			if err != nil {
				return fmt.Errorf("datatype: %w", err)
			}
			switch string(v) { // avoid allocating for the common types
			case typeFP32:
				r.datatype = typeFP32
			case typeUINT8:
				r.datatype = typeUINT8
			default:
				r.datatype = string(v)
			}
			sawType = true
		case "shape":
			sawShape = true
			return s.array(func(i int) error {
				n, err := s.number()
				if err != nil {
					return fmt.Errorf("shape[%d]: %w", i, err)
				}
				d, perr := strconv.ParseInt(string(n.raw), 10, 64)
				if perr != nil || d < 0 {
					return fmt.Errorf("shape[%d]: %s is not a non-negative integer", i, n.raw)
				}
				if i >= 8 {
					return errors.New("shape: more than 8 dimensions")
				}
				r.shape = append(r.shape, d)
				return nil
			})
		case "data":
			sawData = true
			if err := decodeData(s, r, maxValues); err != nil {
				return fmt.Errorf("data: %w", err)
			}
		case "parameters":
			if s.peek() != '{' {
				return errors.New("parameters: not an object")
			}
			return s.skip()
		default:
			return s.skip()
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case r.name == "":
		return errors.New("name: missing")
	case !sawType:
		return errors.New("datatype: missing")
	case !sawShape:
		return errors.New("shape: missing")
	case !sawData:
		return errors.New(`data: missing (binary tensor data is not supported)`)
	}
	return nil
}

// decodeData appends the numbers of a (possibly nested) array to r.data.
// It is the hot loop of a request, written out without callbacks.
func decodeData(s *scanner, r *inferRequest, maxValues int) error {
	if s.peek() != '[' {
		return s.unexpected("an array of numbers")
	}
	if s.depth++; s.depth > maxJSONDepth {
		return s.errf("nested deeper than %d", maxJSONDepth)
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		switch c := s.peek(); {
		case c == '[':
			if err := decodeData(s, r, maxValues); err != nil {
				return err
			}
		case c == '-' || '0' <= c && c <= '9':
			if len(r.data) >= maxValues {
				return fmt.Errorf("%w: more than %d", errTooManyValues, maxValues)
			}
			var ok bool
			if r.data, ok = s.pixels(r.data, maxValues); ok {
				break
			}
			if v, ok := s.plainFloat32(); ok {
				r.data = append(r.data, v)
				break
			}
			n, err := s.number()
			if err != nil {
				return fmt.Errorf("element %d: %w", len(r.data), err)
			}
			v, ok := n.float32()
			if !ok {
				return fmt.Errorf("element %d: %s is out of the FP32 range", len(r.data), n.raw)
			}
			r.data = append(r.data, v)
		default:
			return fmt.Errorf("element %d: not a number", len(r.data))
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.unexpected("',' or ']'")
		}
	}
}

// checkUint8 reports the first element that is not an integer in [0, 255].
func checkUint8(data []float32) error {
	for i, v := range data {
		if v < 0 || v > 255 || v != float32(math.Trunc(float64(v))) {
			return fmt.Errorf("data[%d]: %g is not a UINT8 (an integer 0..255)", i, v)
		}
	}
	return nil
}
