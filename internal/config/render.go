package config

// Rendering and inspecting a resolved configuration: YAML, the key
// reference, single keys and differences.

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// YAML renders the configuration with keys in schema order and lists in flow
// style. The output round-trips through Parse to an equal Config.
func (c *Config) YAML() ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		return nil, fmt.Errorf("encode config %s as YAML: %w", c.Name, err)
	}
	flowSequences(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("write config %s as YAML: %w", c.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write config %s as YAML: %w", c.Name, err)
	}
	return buf.Bytes(), nil
}

// flowSequences switches every sequence under n to flow style ([1, 2]).
func flowSequences(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		flowSequences(c)
	}
}

// Reference documents every key, in schema order.
func Reference() []KeyDoc {
	out := make([]KeyDoc, 0, len(keys))
	for _, s := range keys {
		doc := s.doc
		for _, r := range s.rules {
			doc += "; " + r.msg
		}
		for _, r := range s.cross {
			doc += "; " + r.doc
		}
		out = append(out, KeyDoc{Key: s.key, Type: s.kind.typeName(), Default: yamlValue(s.def), Doc: doc + ".", Env: s.envName()})
	}
	return out
}

// Get returns the value of the leaf key (e.g. "train.optimizer.lr") in YAML
// syntax, as Diff shows it; false when key is not a leaf key.
func (c *Config) Get(key string) (string, bool) {
	if _, ok := lookupKey(key); !ok {
		return "", false
	}
	f, ok := field(c, key)
	if !ok {
		return "", false
	}
	return yamlValue(f.Interface()), true
}

// KeyDiff is one leaf key whose value differs between two configurations.
type KeyDiff struct {
	// Key is the full dotted key.
	Key string
	// A and B are the key's values in the two configurations, in YAML
	// syntax.
	A, B string
}

// Diff lists every leaf key whose value differs between a and b, in schema
// order; nil when they agree. Values are compared as Get shows them, so a
// nil list equals an empty one. Both configs must be non-nil.
func Diff(a, b *Config) []KeyDiff {
	var out []KeyDiff
	for _, s := range keys {
		va, _ := a.Get(s.key)
		vb, _ := b.Get(s.key)
		if va != vb {
			out = append(out, KeyDiff{Key: s.key, A: va, B: vb})
		}
	}
	return out
}

// cloneValue copies slices so defaults in the keys table are never shared.
func cloneValue(v any) any {
	switch s := v.(type) {
	case []int:
		return append([]int{}, s...)
	case []float64:
		return append([]float64{}, s...)
	}
	return v
}
