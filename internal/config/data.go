package config

import (
	"fmt"

	"github.com/lepton-cli/lepton/internal/data"
)

// DataSpec returns the data set the config describes, for data.Open. The
// caller fills in what the config does not say: the resolved location
// (Dir, when data.dir is empty), the cache, the workers and the log.
func (c *Config) DataSpec() data.Spec {
	d := c.Data
	s := data.Spec{Kind: d.Dataset, Dir: d.Dir, Label: d.Label, Channels: d.Channels, Resize: d.Resize,
		TestSplit: d.TestSplit, Seed: c.Seed, OnError: d.OnError}
	if len(d.ImageSize) == 2 {
		s.Height, s.Width = d.ImageSize[0], d.ImageSize[1]
	}
	return s
}

// FitData makes the config describe the data it trains on, so that
// config.yaml and the checkpoints record it: data.dir becomes location,
// data.image_size and data.channels the images' geometry, model.input its
// size (channels*height*width) and model.classes the number of classes.
// model.input or model.classes set to other values is an *Error naming
// both (0, the default, follows the data).
func (c *Config) FitData(location string, g data.Geometry, classes int) error {
	kind := c.Data.Dataset
	if c.Model.Input != 0 && c.Model.Input != g.Size() {
		channels := "1 channel"
		if g.Channels != 1 {
			channels = fmt.Sprintf("%d channels", g.Channels)
		}
		return &Error{Key: "model.input", Msg: fmt.Sprintf("is %d, but the images of data set %s (%dx%d, %s) have %d values; leave model.input out to follow the data",
			c.Model.Input, kind, g.Height, g.Width, channels, g.Size())}
	}
	if c.Model.Classes != 0 && c.Model.Classes != classes {
		return &Error{Key: "model.classes", Msg: fmt.Sprintf("is %d, but data set %s has %d classes; leave model.classes out to follow the data",
			c.Model.Classes, kind, classes)}
	}
	c.Data.Dir = location
	c.Data.ImageSize = []int{g.Height, g.Width}
	c.Data.Channels = g.Channels
	c.Model.Input, c.Model.Classes = g.Size(), classes
	return c.Validate()
}

// unfitted are the keys FitData sets, with the value that leaves each to
// the data.
var unfitted = map[string]string{
	"data.dir": `""`, "data.image_size": "[]", "data.channels": "0", "model.input": "0", "model.classes": "0",
}

// FollowsData reports whether d, a difference between a run's stored
// (fitted) config as A and a config resolved before the run as B, is only
// FitData's doing: the key is one it fills from the data and B leaves it
// unset.
func FollowsData(d KeyDiff) bool {
	v, ok := unfitted[d.Key]
	return ok && d.B == v
}
