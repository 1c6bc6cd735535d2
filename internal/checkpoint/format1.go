package checkpoint

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// format1Defaults are the model settings a format 1 config leaves out:
// the built-in defaults of the lepton that wrote format 1 (a resolved
// config spells out every key it knew, so a missing key predates it).
var format1Defaults = struct {
	hidden     []int
	activation string
	leakySlope float64
	bnEps      float64
}{hidden: []int{128, 64, 32, 16}, activation: "relu", leakySlope: 0.01, bnEps: 1e-5}

// cardFromFormat1 derives the model card of a format 1 checkpoint. Format 1
// held CIFAR-10 models: 32x32 RGB input, three-channel normalization, the
// class names stored beside the config. The network's settings are read
// from the stored YAML config leniently — only the keys the card needs
// (model.hidden, activation, leaky_slope, batch_norm, bn_eps; data.dir,
// and, written by the leptons that trained on other data sets while still
// writing format 1, data.dataset, image_size, channels, label, resize,
// test_split and seed, a grey model's normalization being the first of the
// three stored channels), each defaulted when missing; every other key,
// known, renamed or unknown, is ignored — so that no change of the config
// schema makes an old checkpoint unloadable.
func cardFromFormat1(config string, classes []string, mean, std []float32) (ModelCard, error) {
	c := ModelCard{
		Architecture:  Architecture,
		Input:         Input{Height: 32, Width: 32, Channels: 3, Layout: LayoutCHW},
		Normalization: Normalization{Mean: mean, Std: std},
		Hidden:        format1Defaults.hidden,
		Activation:    format1Defaults.activation,
		LeakySlope:    format1Defaults.leakySlope,
		BNEps:         format1Defaults.bnEps,
		Classes:       classes,
		Data:          DataSource{Dataset: "cifar10"},
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(config), &doc); err != nil {
		return ModelCard{}, fmt.Errorf("format 1 config: %w", err)
	}
	var size []int
	var seed uint64
	fields := []struct {
		section, key string
		dst          any
	}{
		{"model", "hidden", &c.Hidden},
		{"model", "activation", &c.Activation},
		{"model", "leaky_slope", &c.LeakySlope},
		{"model", "batch_norm", &c.BatchNorm},
		{"model", "bn_eps", &c.BNEps},
		{"data", "dir", &c.Data.Location},
		{"data", "dataset", &c.Data.Dataset},
		{"data", "image_size", &size},
		{"data", "channels", &c.Input.Channels},
		{"data", "label", &c.Data.Label},
		{"data", "resize", &c.Data.Resize},
		{"data", "test_split", &c.Data.TestSplit},
		{"", "seed", &seed},
	}
	for _, f := range fields {
		path := []string{f.section, f.key}
		if f.section == "" {
			path = path[1:]
		}
		n := lookup(&doc, path...)
		if n == nil || n.Tag == "!!null" {
			continue
		}
		if err := n.Decode(f.dst); err != nil {
			return ModelCard{}, fmt.Errorf("format 1 config: %s.%s: %w", f.section, f.key, err)
		}
	}
	if c.BNEps == 0 {
		c.BNEps = format1Defaults.bnEps // 0 meant the default
	}
	if len(size) == 2 {
		c.Input.Height, c.Input.Width = size[0], size[1]
	}
	switch c.Input.Channels {
	case 0:
		c.Input.Channels = 3 // 0 meant the data set's own: RGB for CIFAR
	case 1:
		c.Normalization = Normalization{Mean: mean[:1], Std: std[:1]}
	}
	if c.Data.Dataset == "" {
		c.Data.Dataset = "cifar10"
	}
	if c.Data.Dataset == "folder" {
		c.Data.Seed = seed // the seed of its test split
	} else {
		c.Data.TestSplit = 0 // only folders split off a test set
	}
	if c.Data.Dataset != "cifar100" {
		c.Data.Label = ""
	}
	if c.Hidden == nil {
		c.Hidden = []int{}
	}
	if err := c.check(); err != nil {
		return ModelCard{}, fmt.Errorf("format 1 metadata: %w", err)
	}
	return c, nil
}

// lookup returns the value node at path in a YAML document (following
// aliases), or nil.
func lookup(n *yaml.Node, path ...string) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.DocumentNode {
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		} else {
			n = n.Alias
		}
	}
	if len(path) == 0 {
		return n
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == path[0] {
			return lookup(n.Content[i+1], path[1:]...)
		}
	}
	return nil
}
