package sweep

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lepton-cli/lepton/internal/config"
)

// parser reads a sweep file's YAML nodes strictly, naming the file and the
// key in every error.
type parser struct{ path string }

func (p parser) errorf(key, format string, args ...any) error {
	return &config.Error{File: p.path, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// join extends a dotted key path.
func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// fields reads a mapping whose keys must be those of handlers; an empty
// section is accepted.
func (p parser) fields(n *yaml.Node, prefix string, handlers map[string]func(*yaml.Node) error) error {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if prefix == "" {
			return p.errorf("", "want a mapping with base, set, method, parameters ... at the top level")
		}
		return p.errorf(prefix, "want a mapping")
	}
	known := make([]string, 0, len(handlers))
	for k := range handlers {
		known = append(known, k)
	}
	slices.Sort(known)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := deref(n.Content[i]).Value
		key := join(prefix, name)
		if seen[name] {
			return p.errorf(key, "duplicate key")
		}
		seen[name] = true
		h, ok := handlers[name]
		if !ok {
			return p.errorf(key, "unknown key (want one of %s)", strings.Join(known, ", "))
		}
		if err := h(n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// str reads a string scalar.
func (p parser) str(n *yaml.Node, key string, out *string) error {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return p.errorf(key, "want a string, got %s", shown(n))
	}
	*out = n.Value
	return nil
}

// decode reads an integer scalar into out.
func (p parser) decode(n *yaml.Node, key string, out any, want string) error {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(out) != nil {
		return p.errorf(key, "%s, got %s", want, shown(n))
	}
	return nil
}

// settings reads "set": dotted keys (or nested sections) with values.
func (p parser) settings(n *yaml.Node, prefix string, out *[]Setting) error {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	section := "set"
	if prefix != "" {
		section += "." + prefix
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(section, "want a mapping of config keys to values, got %s", shown(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := join(prefix, deref(n.Content[i]).Value)
		v := deref(n.Content[i+1])
		if v != nil && v.Kind == yaml.MappingNode {
			if err := p.settings(v, key, out); err != nil {
				return err
			}
			continue
		}
		if slices.ContainsFunc(*out, func(s Setting) bool { return s.Key == key }) {
			return p.errorf(join("set", key), "duplicate key")
		}
		*out = append(*out, Setting{Key: key, Value: flow(v)})
	}
	return nil
}

// parameters reads the swept keys.
func (p parser) parameters(n *yaml.Node, out *[]Parameter) error {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf("parameters", "want a mapping of config keys to {values: [...]} or {min, max}, got %s", shown(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := deref(n.Content[i]).Value
		at := "parameters." + key
		if slices.ContainsFunc(*out, func(q Parameter) bool { return q.Key == key }) {
			return p.errorf(at, "duplicate key")
		}
		par, err := p.parameter(deref(n.Content[i+1]), key, at)
		if err != nil {
			return err
		}
		*out = append(*out, par)
	}
	return nil
}

// parameter reads one swept key: {values: [...]} or {min, max, log, int}.
func (p parser) parameter(n *yaml.Node, key, at string) (Parameter, error) {
	par := Parameter{Key: key}
	if n == nil || n.Kind != yaml.MappingNode {
		return par, p.errorf(at, "want {values: [...]} or {min: X, max: Y}, got %s", shown(n))
	}
	var (
		values           *yaml.Node
		lo, hi           *float64
		isLog, isInt     bool
		hasLog, hasRange bool
	)
	num := func(name string, dst **float64) func(*yaml.Node) error {
		return func(v *yaml.Node) error {
			v = deref(v)
			var x float64
			if v == nil || v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") ||
				v.Decode(&x) != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return p.errorf(at+"."+name, "want a finite number, got %s", shown(v))
			}
			*dst, hasRange = &x, true
			return nil
		}
	}
	boolean := func(name string, dst *bool) func(*yaml.Node) error {
		return func(v *yaml.Node) error {
			v = deref(v)
			if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(dst) != nil {
				return p.errorf(at+"."+name, "want true or false, got %s", shown(v))
			}
			hasLog = hasLog || name == "log"
			return nil
		}
	}
	if err := p.fields(n, at, map[string]func(*yaml.Node) error{
		"values": func(v *yaml.Node) error { values = deref(v); return nil },
		"min":    num("min", &lo),
		"max":    num("max", &hi),
		"log":    boolean("log", &isLog),
		"int":    boolean("int", &isInt),
	}); err != nil {
		return par, err
	}
	switch {
	case values != nil && (hasRange || hasLog || isInt):
		return par, p.errorf(at, "give either values or a range (min, max, log, int), not both")
	case values != nil:
		if values.Kind != yaml.SequenceNode || len(values.Content) == 0 {
			return par, p.errorf(at+".values", "want a non-empty list, got %s", shown(values))
		}
		for _, v := range values.Content {
			par.Values = append(par.Values, flow(v))
		}
		return par, nil
	case lo == nil || hi == nil:
		return par, p.errorf(at, "want {values: [...]} or a range with both min and max")
	}
	r := &Range{Min: *lo, Max: *hi, Log: isLog, Int: isInt}
	switch {
	case r.Min > r.Max:
		return par, p.errorf(at, "range min %v > max %v", r.Min, r.Max)
	case r.Log && r.Min <= 0:
		return par, p.errorf(at, "a log range needs min > 0, got min %v", r.Min)
	case r.Int && (r.Min != math.Trunc(r.Min) || r.Max != math.Trunc(r.Max)):
		return par, p.errorf(at, "an int range needs integer min and max, got %v and %v", r.Min, r.Max)
	}
	par.Range = r
	return par, nil
}

// shown renders a YAML value for an error message: strings quoted, the
// rest as flow does.
func shown(n *yaml.Node) string {
	if n = deref(n); n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return fmt.Sprintf("%q", n.Value)
	}
	return flow(n)
}

// flow renders a YAML value on one line in flow syntax ("0.001",
// "[256, 128]", "adam"), the way "--set key=value" reads it back.
func flow(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "null"
	}
	c := flowCopy(n)
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("%q", n.Value)
	}
	return strings.TrimSpace(string(b))
}

// flowCopy copies n with flow style on every collection and no comments.
func flowCopy(n *yaml.Node) *yaml.Node {
	n = deref(n)
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	c.Anchor = ""
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		c.Style = yaml.FlowStyle
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, e := range n.Content {
			c.Content[i] = flowCopy(e)
		}
	}
	return &c
}
