package predict

import (
	"encoding/json"

	"github.com/lepton-cli/lepton/internal/jsonfloat"
)

// classJSON and resultJSON are the JSON forms of Class and Result: a NaN or
// infinite probability or logit (a model with NaN weights gives them) is
// written as "NaN", "+Inf" or "-Inf" (as in report.json), so every line
// stays valid JSON.
type classJSON struct {
	Class       string          `json:"class"`
	Probability jsonfloat.Float `json:"probability"`
}

type resultJSON struct {
	Path   string              `json:"path"`
	Top    []Class             `json:"top,omitempty"`
	Logits []jsonfloat.Float32 `json:"logits,omitempty"`
	Error  string              `json:"error,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (c Class) MarshalJSON() ([]byte, error) {
	return json.Marshal(classJSON{Class: c.Class, Probability: jsonfloat.Float(c.Probability)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Class) UnmarshalJSON(b []byte) error {
	var j classJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Class{Class: j.Class, Probability: float64(j.Probability)}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON{Path: r.Path, Top: r.Top, Logits: jsonfloat.Slice32(r.Logits), Error: r.Error})
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Result) UnmarshalJSON(b []byte) error {
	var j resultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Result{Path: j.Path, Top: j.Top, Logits: jsonfloat.Floats32(j.Logits), Error: j.Error}
	return nil
}
