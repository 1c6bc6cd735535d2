package runs

import (
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/regularfile"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// LoadParams reads the dotted config keys (e.g. "train.optimizer.lr")
// from each run's config.yaml into its Params and ParamTexts, so that runs
// can be told apart by their hyperparameters. A run without the key (or
// without a readable config.yaml) is left without it.
func LoadParams(runs []Run, keys []string) {
	for i := range runs {
		r := &runs[i]
		b, err := regularfile.ReadFile(filepath.Join(r.Dir, rundir.ConfigFile), config.MaxFileSize)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		for _, k := range keys {
			n := lookup(doc.Content[0], k)
			if n == nil {
				continue
			}
			var v any
			if n.Decode(&v) != nil {
				continue
			}
			if r.Params == nil {
				r.Params, r.ParamTexts = map[string]any{}, map[string]string{}
			}
			r.Params[k], r.ParamTexts[k] = v, flowText(n)
		}
	}
}

// lookup finds the value of a dotted key in a YAML mapping.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for _, part := range strings.Split(key, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	if n == nil || n.Kind == yaml.MappingNode {
		return nil
	}
	return n
}

// flowText renders a YAML value on one line ("0.001", "[128, 64]").
func flowText(n *yaml.Node) string {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	if c.Kind == yaml.SequenceNode {
		c.Style = yaml.FlowStyle
	}
	b, err := yaml.Marshal(&c)
	if err != nil {
		return n.Value
	}
	return strings.TrimSpace(string(b))
}

// header is the table header with the params after the config column.
func header(params []string) []string {
	return slices.Concat(Columns[:2], params, Columns[2:])
}

// paramCells renders a run's param columns, each followed by sep.
func paramCells(r Run, params []string, sep string) string {
	var b strings.Builder
	for _, k := range params {
		t, ok := r.ParamTexts[k]
		if !ok {
			t = "-"
		}
		b.WriteString(t + sep)
	}
	return b.String()
}

// paramSortKey sorts by a param column: numbers as numbers, anything else
// by its text; runs without the key last.
func paramSortKey(key string) func(Run) sortKey {
	return func(r Run) sortKey {
		switch v := r.Params[key].(type) {
		case int:
			return float64(v)
		case float64:
			return v
		}
		if t, ok := r.ParamTexts[key]; ok {
			return t
		}
		return nil
	}
}
