package config

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// setting is one key's value from one source.
type setting struct {
	key    string
	value  any    // normalised Go value of the key's kind
	source string // Error.File for problems with this value
	line   int    // Error.Line: the key's line in a file, 0 otherwise
}

// maxAliasHops bounds alias chains followed when reading YAML nodes.
const maxAliasHops = 64

// deref follows aliases to the aliased node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasHops; i++ {
		n = n.Alias
	}
	return n
}

// parseDocument strictly reads config YAML into settings, in document order.
// source names the file in errors ("" for none). Every mistake is reported
// (unknown keys, wrong types, duplicates), each with its line; the settings
// without mistakes are still returned. YAML that cannot be parsed gives
// one error and no settings.
func parseDocument(data []byte, source string) ([]setting, []*Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty document: all defaults
		}
		return nil, []*Error{{File: source, Msg: "invalid YAML", Err: err}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, []*Error{{File: source, Msg: "invalid YAML", Err: err}}
		}
		return nil, []*Error{{File: source, Line: extra.Line, Msg: "want a single YAML document, found several"}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	var (
		out  []setting
		errs []*Error
	)
	walkMapping(root, "", source, &out, &errs)
	return out, errs
}

// walkMapping reads the section at prefix ("" for the top level) from n,
// appending its settings to out and its mistakes to errs.
func walkMapping(n *yaml.Node, prefix, source string, out *[]setting, errs *[]*Error) {
	n = deref(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		return // an empty section such as "data:" keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		msg := "want a mapping of keys"
		if prefix == "" {
			msg = "want a mapping of config keys at the top level"
		}
		*errs = append(*errs, &Error{File: source, Line: n.Line, Key: clip(prefix), Msg: msg, Value: render(n)})
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := keyName(n.Content[i])
		line := n.Content[i].Line
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if seen[name] {
			*errs = append(*errs, &Error{File: source, Line: line, Key: clip(path), Msg: "duplicate key"})
			continue
		}
		seen[name] = true
		val := n.Content[i+1]
		if spec, ok := lookupKey(path); ok {
			v, ok := spec.kind.fromNode(val)
			if !ok {
				*errs = append(*errs, &Error{File: source, Line: line, Key: path, Msg: spec.kind.want(), Value: render(val)})
				continue
			}
			*out = append(*out, setting{key: path, value: v, source: source, line: line})
			continue
		}
		if isSection(path) {
			walkMapping(val, path, source, out, errs)
			continue
		}
		*errs = append(*errs, &Error{File: source, Line: line, Key: clip(path), Msg: unknownKey(path)})
	}
}

// keyName is the text of a mapping key node.
func keyName(n *yaml.Node) string {
	if d := deref(n); d != nil && d.Kind == yaml.ScalarNode {
		return d.Value
	}
	return render(n)
}

// fromNode converts a YAML value to the Go value of kind k, strictly: ints
// must be YAML integers, strings YAML strings, booleans YAML true or false;
// ints are accepted as floats.
func (k kind) fromNode(n *yaml.Node) (any, bool) {
	n = deref(n)
	if n == nil {
		return nil, false
	}
	switch k {
	case kindIntList:
		return listFromNode[int](n, kindInt)
	case kindFloatList:
		return listFromNode[float64](n, kindFloat)
	}
	if n.Kind != yaml.ScalarNode {
		return nil, false
	}
	tag := n.ShortTag()
	switch k {
	case kindString:
		if tag == "!!str" {
			return n.Value, true
		}
	case kindInt:
		var v int
		if tag == "!!int" && n.Decode(&v) == nil {
			return v, true
		}
	case kindUint64:
		var v uint64
		if tag == "!!int" && n.Decode(&v) == nil {
			return v, true
		}
	case kindFloat:
		var v float64
		if (tag == "!!int" || tag == "!!float") && n.Decode(&v) == nil && isFinite(v) {
			return v, true
		}
	case kindBool:
		var v bool
		if tag == "!!bool" && n.Decode(&v) == nil {
			return v, true
		}
	}
	return nil, false
}

// listFromNode reads a YAML sequence whose elements are of kind elem (with Go
// type T).
func listFromNode[T any](n *yaml.Node, elem kind) (any, bool) {
	if n.Kind != yaml.SequenceNode {
		return nil, false
	}
	out := make([]T, 0, len(n.Content))
	for _, e := range n.Content {
		v, ok := elem.fromNode(e)
		if !ok {
			return nil, false
		}
		out = append(out, v.(T))
	}
	return out, true
}

// fromText converts a --set or environment value, which is text by nature,
// to the Go value of kind k. The text is read as a YAML value, except that
// strings keys take non-string text verbatim, boolean keys also accept 1 and
// 0, and list keys also accept a comma-separated list ("256,128"), a single
// number or empty text (the empty list). The second result is the value as
// shown in errors.
func (k kind) fromText(text string) (any, string, bool) {
	n := textNode(text)
	shown := strconv.Quote(text)
	if n != nil {
		shown = render(n)
	}
	switch k {
	case kindString:
		if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			return n.Value, shown, true
		}
		return text, shown, true
	case kindBool:
		switch strings.TrimSpace(text) {
		case "1":
			return true, shown, true
		case "0":
			return false, shown, true
		}
	case kindIntList:
		if n == nil || n.Kind == yaml.ScalarNode {
			v, ok := textList[int](text, kindInt)
			return v, shown, ok
		}
	case kindFloatList:
		if n == nil || n.Kind == yaml.ScalarNode {
			v, ok := textList[float64](text, kindFloat)
			return v, shown, ok
		}
	}
	if n == nil {
		return nil, shown, false
	}
	v, ok := k.fromNode(n)
	return v, shown, ok
}

// textList reads a list given as text other than a YAML sequence: empty
// text is the empty list, otherwise comma-separated elements of kind elem
// (with Go type T), optionally in brackets, each read as a YAML value.
func textList[T any](text string, elem kind) (any, bool) {
	t := strings.TrimSpace(text)
	if t == "" {
		return []T{}, true
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	parts := strings.Split(t, ",")
	out := make([]T, 0, len(parts))
	for _, p := range parts {
		n := textNode(strings.TrimSpace(p))
		if n == nil {
			return nil, false
		}
		v, ok := elem.fromNode(n)
		if !ok {
			return nil, false
		}
		out = append(out, v.(T))
	}
	return out, true
}

// textNode parses text as a single YAML value; nil when it is empty or not
// valid YAML.
func textNode(text string) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}
