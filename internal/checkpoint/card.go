package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Architecture is the only ModelCard.Architecture this build knows: a
// multi-layer perceptron of Linear layers (PyTorch naming: layers.<i>.weight
// [out,in], layers.<i>.bias [out], and with batch normalization
// layers.<i>.bn.{weight,bias,running_mean,running_var} [out] for each hidden
// layer).
const Architecture = "mlp"

// LayoutCHW is the only Input.Layout: every value is a pixel byte / 255,
// the channel planes one after the other (R, G, B, or one grey plane), each
// plane Height rows of Width values.
const LayoutCHW = "CHW"

// maxInput bounds the values of one input (Height*Width*Channels), as the
// data package bounds an image, so sizes computed from a card never
// overflow.
const maxInput = 1 << 24

// ModelCard is the model description that format 2 checkpoints carry (the
// "model" metadata entry, a JSON object): everything needed to use the
// network — to evaluate, predict, export or serve it — without the
// training config. Like a model card beside a safetensors file, it states
// the architecture, the input the network takes and how it is normalized,
// the class names, and which data set the model was trained on.
//
// For a format 1 checkpoint Load derives the card from what that format
// stored (see cardFromFormat1). Load checks the card's structure (positive
// sizes, one normalization value per channel); whether the tensors fit it
// is checked by the code that builds the network from it.
type ModelCard struct {
	// Architecture is Architecture ("mlp").
	Architecture string `json:"architecture"`
	// Input is the image the network takes, flattened to
	// Height*Width*Channels values.
	Input Input `json:"input"`
	// Normalization is applied to the input per channel: (x - mean) / std,
	// where x is the pixel byte / 255. A zero std counts as 1.
	Normalization Normalization `json:"normalization"`
	// Hidden lists the hidden layer sizes, input to output.
	Hidden []int `json:"hidden"`
	// Activation is the hidden layers' activation: relu, tanh, sigmoid or
	// leaky_relu.
	Activation string `json:"activation"`
	// LeakySlope is leaky_relu's negative slope.
	LeakySlope float64 `json:"leaky_slope"`
	// BatchNorm says every hidden layer has batch normalization (Linear ->
	// BatchNorm -> activation), evaluated with its running statistics.
	BatchNorm bool `json:"batch_norm"`
	// BNEps is added to the running variance before its square root.
	BNEps float64 `json:"bn_eps"`
	// Classes are the class names, indexed by output.
	Classes []string `json:"classes"`
	// Data says which data set the model was trained on.
	Data DataSource `json:"data"`
}

// Input is the shape of the images a network takes.
type Input struct {
	Height   int `json:"height"`
	Width    int `json:"width"`
	Channels int `json:"channels"` // 1 (grey) or 3 (RGB)
	// Layout is LayoutCHW.
	Layout string `json:"layout"`
}

// Size returns the number of input values, Height*Width*Channels.
func (in Input) Size() int { return in.Height * in.Width * in.Channels }

// String renders the input as HxWxC, e.g. "28x28x1".
func (in Input) String() string { return fmt.Sprintf("%dx%dx%d", in.Height, in.Width, in.Channels) }

// Normalization is a per-channel mean and standard deviation of pixel
// values scaled to [0,1], one value per channel plane.
type Normalization struct {
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
}

// DataSource names the data set a model was trained on, with what is
// needed to open its test split again.
type DataSource struct {
	// Dataset is the data.dataset kind: cifar10, cifar100, mnist,
	// fashion-mnist or folder.
	Dataset string `json:"dataset"`
	// Location is the data directory or archive (absolute when the run
	// recorded it); empty when unknown.
	Location string `json:"location"`
	// Label is CIFAR-100's label set: fine or coarse.
	Label string `json:"label,omitempty"`
	// Resize is how images of another size were fitted: stretch, crop or
	// pad (empty: stretch). Predict and eval --images fit images the same way.
	Resize string `json:"resize,omitempty"`
	// TestSplit is the share of a folder held out as its test set when it
	// has no test/ sub-folder, split with Seed.
	TestSplit float64 `json:"test_split,omitempty"`
	// Seed is the seed of that split.
	Seed uint64 `json:"seed,omitempty"`
}

// check reports a card that no network can be built from.
func (c *ModelCard) check() error {
	if c.Architecture != Architecture {
		return fmt.Errorf("model architecture %q is not %q", c.Architecture, Architecture)
	}
	in := c.Input
	if in.Layout != LayoutCHW {
		return fmt.Errorf("model input layout %q is not %q", in.Layout, LayoutCHW)
	}
	if in.Height < 1 || in.Width < 1 || (in.Channels != 1 && in.Channels != 3) {
		return fmt.Errorf("model input %s: height and width must be positive, channels 1 or 3", in)
	}
	if in.Height > maxInput || in.Width > maxInput/in.Height || in.Channels > maxInput/(in.Height*in.Width) {
		return fmt.Errorf("model input %s: more than %d values", in, maxInput)
	}
	n := c.Normalization
	if len(n.Mean) != in.Channels || len(n.Std) != in.Channels {
		return fmt.Errorf("model normalization has %d means and %d stds for %d channels", len(n.Mean), len(n.Std), in.Channels)
	}
	for i := range n.Mean {
		if !finite(n.Mean[i]) || !finite(n.Std[i]) || n.Std[i] < 0 {
			return fmt.Errorf("model normalization of channel %d: mean %v, std %v (want finite, std >= 0)", i, n.Mean[i], n.Std[i])
		}
	}
	for i, h := range c.Hidden {
		if h < 1 || h > maxDim {
			return fmt.Errorf("model hidden[%d] size %d is out of range [1, %d]", i, h, maxDim)
		}
	}
	if !(c.LeakySlope >= 0) || math.IsInf(c.LeakySlope, 0) || !(c.BNEps >= 0) || math.IsInf(c.BNEps, 0) {
		return fmt.Errorf("model leaky_slope %v and bn_eps %v must be finite and >= 0", c.LeakySlope, c.BNEps)
	}
	if len(c.Classes) == 0 {
		return errors.New("model has no class names")
	}
	for i, name := range c.Classes {
		if !utf8.ValidString(name) {
			return fmt.Errorf("model class %d is not valid UTF-8", i)
		}
	}
	for _, s := range []string{c.Activation, c.Data.Dataset, c.Data.Location, c.Data.Label, c.Data.Resize} {
		if !utf8.ValidString(s) {
			return errors.New("model card holds a string that is not valid UTF-8")
		}
	}
	return nil
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// encodeCard validates c and returns its JSON.
func encodeCard(c *ModelCard) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode model card: %w", err)
	}
	return string(b), nil
}

// decodeCard parses and checks a card's JSON. Unknown fields are ignored,
// so that a later lepton may add fields without a new format version.
func decodeCard(s string) (ModelCard, error) {
	var c ModelCard
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return ModelCard{}, fmt.Errorf("decode model metadata: %w", err)
	}
	if err := c.check(); err != nil {
		return ModelCard{}, fmt.Errorf("model metadata: %w", err)
	}
	return c, nil
}
