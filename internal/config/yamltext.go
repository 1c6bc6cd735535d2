package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// render shows a YAML value on one bounded line, in flow style, with strings
// quoted.
func render(n *yaml.Node) string {
	var b strings.Builder
	renderTo(&b, n, 0)
	return clip(b.String())
}

func renderTo(b *strings.Builder, n *yaml.Node, depth int) {
	if b.Len() > maxShown {
		return
	}
	if depth > 8 {
		b.WriteString("...")
		return
	}
	n = deref(n)
	if n == nil {
		b.WriteString("null")
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return
		}
		renderTo(b, n.Content[0], depth+1)
	case yaml.SequenceNode:
		b.WriteString("[")
		for i, e := range n.Content {
			if i > 0 {
				b.WriteString(", ")
			}
			if b.Len() > maxShown {
				break
			}
			renderTo(b, e, depth+1)
		}
		b.WriteString("]")
	case yaml.MappingNode:
		b.WriteString("{")
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			if b.Len() > maxShown {
				break
			}
			renderTo(b, n.Content[i], depth+1)
			b.WriteString(": ")
			renderTo(b, n.Content[i+1], depth+1)
		}
		b.WriteString("}")
	case yaml.ScalarNode:
		b.WriteString(scalarText(n))
	default:
		b.WriteString("null")
	}
}

// scalarText shows a scalar: numbers, booleans and null as written, anything
// else quoted.
func scalarText(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!int", "!!float", "!!bool":
		if n.Value != "" && !strings.ContainsAny(n.Value, " \t\r\n\"'") {
			return n.Value
		}
	}
	return strconv.Quote(n.Value)
}

// formatValue shows a normalised Go value the way render shows YAML, on one
// bounded line.
func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return clip(strconv.Quote(s))
	}
	return clip(yamlValue(v))
}

// yamlValue renders a normalised Go value exactly, in YAML flow syntax:
// strings plain when YAML reads them back as the same string and quoted
// otherwise, numbers in the shortest form that reads back exactly (negative
// zero as 0), lists as [a, b].
func yamlValue(v any) string {
	switch x := v.(type) {
	case string:
		if plainString(x) {
			return x
		}
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if x == 0 {
			x = 0 // drop the sign of -0
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []int:
		return listValue(x)
	case []float64:
		return listValue(x)
	default:
		return fmt.Sprint(v)
	}
}

// listValue renders a list in YAML flow syntax.
func listValue[T any](list []T) string {
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = yamlValue(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// plainString reports whether s can be written as a plain YAML scalar that
// reads back as the string s, in a mapping or on its own, also for YAML 1.1
// readers (so "yes" and "on" are quoted, as the YAML encoder does).
func plainString(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || strings.ContainsAny(s, "\"\r\n\t\u0085\u2028\u2029") {
		return false
	}
	if out, err := yaml.Marshal(s); err != nil || string(out) != s+"\n" {
		return false
	}
	n := textNode(s)
	return n != nil && n.Kind == yaml.ScalarNode && n.Style == 0 && n.ShortTag() == "!!str" && n.Value == s
}
