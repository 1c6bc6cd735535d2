package serve

import (
	"encoding/json"
	"fmt"
)

// maxJSONDepth bounds the nesting of any JSON value the server reads, so
// that a hostile body cannot exhaust the stack.
const maxJSONDepth = 32

// scanner is a strict, allocation-free reader of one JSON document held in
// memory. It exists for speed: an inference request is mostly one long
// array of numbers, which encoding/json scans twice (validation, then
// decoding) and converts through reflection. The scanner accepts exactly
// RFC 8259 JSON (a fuzz test checks it against encoding/json) and reports
// the byte offset of the first problem.
type scanner struct {
	b     []byte
	i     int
	depth int
	tmp   []byte // decoded strings with escapes
}

// syntaxError is a malformed-JSON error at a byte offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

func (s *scanner) errf(format string, args ...any) error {
	return &syntaxError{off: s.i, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) unexpected(what string) error {
	if s.i >= len(s.b) {
		return s.errf("unexpected end of input, want %s", what)
	}
	return s.errf("unexpected %q, want %s", s.b[s.i], what)
}

// end checks that nothing but white space follows the document.
func (s *scanner) end() error {
	if s.ws(); s.i < len(s.b) {
		return s.errf("unexpected %q after the top-level value", s.b[s.i])
	}
	return nil
}

// object reads an object, calling field for each key with the scanner at
// its value; field must consume the value.
func (s *scanner) object(field func(key []byte) error) error {
	if s.peek() != '{' {
		return s.unexpected("an object")
	}
	if s.depth++; s.depth > maxJSONDepth {
		return s.errf("nested deeper than %d", maxJSONDepth)
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.unexpected("a string key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return s.unexpected("':'")
		}
		s.i++
		if err := field(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.unexpected("',' or '}'")
		}
	}
}

// array reads an array, calling elem for each element with the scanner at
// it; elem must consume the element.
func (s *scanner) array(elem func(i int) error) error {
	if s.peek() != '[' {
		return s.unexpected("an array")
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
	for n := 0; ; n++ {
		if err := elem(n); err != nil {
			return err
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

// str reads a string and returns its decoded bytes, valid until the next
// call. Strings without escapes are returned without copying.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("a string")
	}
	start := s.i
	s.i++
	escaped := false
	for {
		if s.i >= len(s.b) {
			return nil, s.errf("unterminated string")
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			raw := s.b[start:s.i]
			if !escaped {
				return raw[1 : len(raw)-1], nil
			}
			// Escapes are rare in requests: let encoding/json decode them.
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, &syntaxError{off: start, msg: "bad string escape"}
			}
			s.tmp = append(s.tmp[:0], v...)
			return s.tmp, nil
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return nil, s.errf("unterminated string")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex4(s.b[s.i+2:s.i+6]) {
					return nil, s.errf(`bad \u escape`)
				}
				s.i += 6
			default:
				return nil, s.errf("bad escape \\%c", s.b[s.i+1])
			}
			escaped = true
		case c < 0x20:
			return nil, s.errf("control character in string")
		default:
			s.i++
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// literal reads true, false or null.
func (s *scanner) literal() error {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return nil
		}
	}
	return s.unexpected("a value")
}

// skip reads and discards any value.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) error { return s.skip() })
	case c == '[':
		return s.array(func(int) error { return s.skip() })
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || '0' <= c && c <= '9':
		_, err := s.number()
		return err
	default:
		return s.literal()
	}
}
