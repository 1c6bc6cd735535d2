// Package config loads, validates and renders lepton's run configuration.
//
// A configuration is resolved from, in increasing precedence: the built-in
// defaults, a YAML config file, LEPTON_* environment variables and "key=value"
// sets (explicit command-line flags are passed as sets, so they win). Every
// key is declared once, in the keys table of keys.go, together with its
// default, documentation and validation; defaults, the strict unknown-key
// check, the environment mapping, validation and Reference derive from it.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/spf13/viper"

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// MaxFileSize is the largest config file, and the largest config text Parse
// takes, in bytes. lepton's configs are a few KB; a 40 MB one used to take
// 7 GB and 40 s in the YAML parser before anything looked at it.
const MaxFileSize = 1 << 20

// Config is a fully resolved run configuration.
type Config struct {
	// Name is the run name.
	Name string `mapstructure:"name" yaml:"name"`
	// Seed drives every random choice.
	Seed uint64 `mapstructure:"seed" yaml:"seed"`
	// Data configures the data set.
	Data Data `mapstructure:"data" yaml:"data"`
	// Model configures the network.
	Model Model `mapstructure:"model" yaml:"model"`
	// Train configures training.
	Train Train `mapstructure:"train" yaml:"train"`
	// Output configures where runs are written.
	Output Output `mapstructure:"output" yaml:"output"`
}

// Data configures the data set.
type Data struct {
	// Dataset is the data set's kind: cifar10, cifar100, mnist,
	// fashion-mnist or folder.
	Dataset string `mapstructure:"dataset" yaml:"dataset"`
	// Dir is the data directory; empty means resolve it elsewhere.
	Dir string `mapstructure:"dir" yaml:"dir"`
	// Label picks CIFAR-100's fine or coarse labels.
	Label string `mapstructure:"label" yaml:"label"`
	// ImageSize is the [height, width] the images are resized to; empty
	// means the data set's own.
	ImageSize []int `mapstructure:"image_size" yaml:"image_size"`
	// Channels is 1 (grey) or 3 (RGB); 0 means the data set's own.
	Channels int `mapstructure:"channels" yaml:"channels"`
	// Resize is how images are fitted to ImageSize: stretch, crop or pad.
	Resize string `mapstructure:"resize" yaml:"resize"`
	// ValSplit is the share of the training set held out for validation.
	ValSplit float64 `mapstructure:"val_split" yaml:"val_split"`
	// TestSplit is the share of a folder held out as the test set when it
	// has no train/ and test/ sub-folders.
	TestSplit float64 `mapstructure:"test_split" yaml:"test_split"`
	// OnError says what a folder's undecodable files do: skip or fail.
	OnError string `mapstructure:"on_error" yaml:"on_error"`
	// Augment configures training-time data augmentation.
	Augment Augment `mapstructure:"augment" yaml:"augment"`
	// Workers is the number of batch-assembly goroutines; 0 means auto.
	Workers int `mapstructure:"workers" yaml:"workers"`
}

// Augment configures training-time data augmentation.
type Augment struct {
	// Flip enables random horizontal flips.
	Flip bool `mapstructure:"flip" yaml:"flip"`
	// Crop enables random crops with zero padding.
	Crop bool `mapstructure:"crop" yaml:"crop"`
	// CropPadding is the zero padding, in pixels, around random crops.
	CropPadding int `mapstructure:"crop_padding" yaml:"crop_padding"`
	// Scale is the [min, max] area range of the random resized crop; empty
	// means off.
	Scale []float64 `mapstructure:"scale" yaml:"scale"`
	// Ratio is the [min, max] aspect-ratio range of the random resized crop.
	Ratio []float64 `mapstructure:"ratio" yaml:"ratio"`
}

// Model configures the MLP.
type Model struct {
	// Input is the flattened input size.
	Input int `mapstructure:"input" yaml:"input"`
	// Hidden lists the hidden layer sizes, input to output.
	Hidden []int `mapstructure:"hidden" yaml:"hidden"`
	// Activation is relu, tanh, sigmoid or leaky_relu.
	Activation string `mapstructure:"activation" yaml:"activation"`
	// LeakySlope is the negative slope of leaky_relu.
	LeakySlope float64 `mapstructure:"leaky_slope" yaml:"leaky_slope"`
	// Init is the weight initialisation: he or glorot.
	Init string `mapstructure:"init" yaml:"init"`
	// Classes is the number of output classes.
	Classes int `mapstructure:"classes" yaml:"classes"`
	// Dropout is the dropout probability per hidden layer, or one value for
	// all hidden layers; empty means none.
	Dropout []float64 `mapstructure:"dropout" yaml:"dropout"`
	// BatchNorm enables batch normalization between hidden layers.
	BatchNorm bool `mapstructure:"batch_norm" yaml:"batch_norm"`
	// BNMomentum is the batch-norm running-statistics momentum.
	BNMomentum float64 `mapstructure:"bn_momentum" yaml:"bn_momentum"`
	// BNEps is the batch-norm numerical-stability epsilon.
	BNEps float64 `mapstructure:"bn_eps" yaml:"bn_eps"`
}

// Train configures training.
type Train struct {
	// Epochs is the number of passes over the training set.
	Epochs int `mapstructure:"epochs" yaml:"epochs"`
	// BatchSize is the mini-batch size.
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size"`
	// Threads is the number of worker threads; 0 means all cores.
	Threads int `mapstructure:"threads" yaml:"threads"`
	// Shards is the number of data-parallel shards each batch is cut into;
	// it, not Threads, fixes the order of the gradient sums.
	Shards int `mapstructure:"shards" yaml:"shards"`
	// Loss is the loss function.
	Loss string `mapstructure:"loss" yaml:"loss"`
	// Optimizer configures the optimizer.
	Optimizer Optimizer `mapstructure:"optimizer" yaml:"optimizer"`
	// GradClip is the maximum global L2 norm of the gradients; 0 means off.
	GradClip float64 `mapstructure:"grad_clip" yaml:"grad_clip"`
	// LabelSmoothing is the label-smoothing factor.
	LabelSmoothing float64 `mapstructure:"label_smoothing" yaml:"label_smoothing"`
	// CheckpointEvery also writes checkpoints/last every N optimizer steps;
	// 0 means only at epoch ends.
	CheckpointEvery int `mapstructure:"checkpoint_every" yaml:"checkpoint_every"`
	// Schedule configures the learning-rate schedule.
	Schedule Schedule `mapstructure:"schedule" yaml:"schedule"`
	// EarlyStopping configures early stopping.
	EarlyStopping EarlyStopping `mapstructure:"early_stopping" yaml:"early_stopping"`
}

// Optimizer configures the optimizer.
type Optimizer struct {
	// Name is adam, adamw or sgd.
	Name string `mapstructure:"name" yaml:"name"`
	// LR is the learning rate.
	LR float64 `mapstructure:"lr" yaml:"lr"`
	// Momentum is the SGD momentum.
	Momentum float64 `mapstructure:"momentum" yaml:"momentum"`
	// Beta1 is Adam's first-moment decay.
	Beta1 float64 `mapstructure:"beta1" yaml:"beta1"`
	// Beta2 is Adam's second-moment decay.
	Beta2 float64 `mapstructure:"beta2" yaml:"beta2"`
	// Eps is Adam's numerical-stability epsilon.
	Eps float64 `mapstructure:"eps" yaml:"eps"`
	// WeightDecay is the weight decay (L2 for adam and sgd, decoupled for
	// adamw).
	WeightDecay float64 `mapstructure:"weight_decay" yaml:"weight_decay"`
	// Nesterov enables SGD Nesterov momentum.
	Nesterov bool `mapstructure:"nesterov" yaml:"nesterov"`
	// DecayBias also applies weight decay to biases and batch-norm
	// parameters.
	DecayBias bool `mapstructure:"decay_bias" yaml:"decay_bias"`
}

// Schedule configures the learning-rate schedule. Which fields apply
// depends on Name; the others are ignored.
type Schedule struct {
	// Name is constant, step, cosine, one_cycle or plateau.
	Name string `mapstructure:"name" yaml:"name"`
	// WarmupEpochs is the length of the linear warmup (cosine).
	WarmupEpochs float64 `mapstructure:"warmup_epochs" yaml:"warmup_epochs"`
	// MinLR is the learning-rate floor (cosine, plateau).
	MinLR float64 `mapstructure:"min_lr" yaml:"min_lr"`
	// StepEpochs is the decay interval in epochs (step).
	StepEpochs int `mapstructure:"step_epochs" yaml:"step_epochs"`
	// Gamma is the decay factor (step).
	Gamma float64 `mapstructure:"gamma" yaml:"gamma"`
	// PctStart is the share of steps rising to the peak rate (one_cycle).
	PctStart float64 `mapstructure:"pct_start" yaml:"pct_start"`
	// DivFactor divides the peak rate into the initial rate (one_cycle).
	DivFactor float64 `mapstructure:"div_factor" yaml:"div_factor"`
	// FinalDivFactor divides the initial rate into the final rate
	// (one_cycle).
	FinalDivFactor float64 `mapstructure:"final_div_factor" yaml:"final_div_factor"`
	// Factor multiplies the rate on a plateau (plateau).
	Factor float64 `mapstructure:"factor" yaml:"factor"`
	// Patience is the number of epochs without improvement before the rate
	// drops (plateau).
	Patience int `mapstructure:"patience" yaml:"patience"`
	// Threshold is the relative improvement that counts (plateau).
	Threshold float64 `mapstructure:"threshold" yaml:"threshold"`
	// Monitor is the watched metric, val_loss or val_acc (plateau).
	Monitor string `mapstructure:"monitor" yaml:"monitor"`
}

// EarlyStopping configures stopping when a validation metric stops
// improving.
type EarlyStopping struct {
	// Enabled turns early stopping on.
	Enabled bool `mapstructure:"enabled" yaml:"enabled"`
	// Monitor is the watched metric, val_loss or val_acc.
	Monitor string `mapstructure:"monitor" yaml:"monitor"`
	// Patience is the number of epochs without improvement before stopping.
	Patience int `mapstructure:"patience" yaml:"patience"`
	// MinDelta is the smallest change that counts as an improvement.
	MinDelta float64 `mapstructure:"min_delta" yaml:"min_delta"`
	// RestoreBest makes the best epoch's weights (checkpoints/best) the
	// final model that report.json tests; false: the last epoch's.
	RestoreBest bool `mapstructure:"restore_best" yaml:"restore_best"`
}

// Output configures where runs are written.
type Output struct {
	// Dir is the parent directory of run directories.
	Dir string `mapstructure:"dir" yaml:"dir"`
}

// defaultName is the run name when neither the config nor a file gives one.
const defaultName = "lepton"

// LoadOptions says where Load reads configuration from.
type LoadOptions struct {
	// File is the YAML config file; empty for none.
	File string
	// Env is the environment, like os.Environ(); nil means none. Only
	// LEPTON_<KEY> variables of known keys are read (data.dir never is);
	// when a variable repeats, the last entry wins.
	Env []string
	// Sets are "key=value" overrides applied in order; later ones win.
	Sets []string
}

// KeyDoc documents one configuration key.
type KeyDoc struct {
	// Key is the full dotted key, e.g. "train.batch_size".
	Key string
	// Type is the value type: string, bool, int, uint64, float, "list of
	// int" or "list of float".
	Type string
	// Default is the built-in default in YAML syntax.
	Default string
	// Doc describes the key and its constraints.
	Doc string
	// Env is the environment variable that sets the key, or "" if none.
	Env string
}

// Default returns the built-in default configuration, as Load resolves it
// without a file, environment or sets (so Name is "lepton").
func Default() Config {
	var c Config
	for _, s := range keys {
		// The keys table and Config agree (enforced by tests), so this
		// cannot fail; a mismatch would leave the field zero.
		_ = setField(&c, s.key, cloneValue(s.def))
	}
	c.Name = defaultName
	return c
}

// Load resolves the configuration from defaults, opts.File, the LEPTON_*
// variables of opts.Env and opts.Sets, in that order of precedence, and
// validates it. All configuration problems are reported: one as an *Error,
// several as Errors (the file's in line order, each with its line).
func Load(opts LoadOptions) (*Config, error) {
	var (
		fileLayer []setting
		problems  []*Error
	)
	if opts.File != "" {
		// Only a regular file: a FIFO would block forever.
		data, err := regularfile.ReadFile(opts.File, MaxFileSize)
		if err != nil {
			op := "open"
			var pe *fs.PathError
			if errors.As(err, &pe) {
				op, err = pe.Op, pe.Err
			}
			return nil, &Error{Msg: op + " config " + opts.File, Err: err}
		}
		fileLayer, problems = parseDocument(data, opts.File)
	}
	overrides, envProblems := fromEnv(opts.Env)
	problems = append(problems, envProblems...)
	for _, raw := range opts.Sets {
		s, err := parseSet(raw)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		overrides = append(overrides, s)
	}
	return resolve(opts.File, fileLayer, overrides, problems)
}

// Parse strictly reads a resolved config (e.g. one stored in a checkpoint):
// unknown keys and wrongly typed values are errors, missing keys take their
// defaults. The result is validated. Text over MaxFileSize is refused.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{Msg: fmt.Sprintf("config is %d bytes, more than the %d allowed", len(data), MaxFileSize)}
	}
	layer, problems := parseDocument(data, "")
	return resolve("", layer, nil, problems)
}

// resolve layers defaults < fileLayer < overrides with viper, decodes the
// result, fills the name and validates. The problems found while reading
// the layers are reported together with the validation's.
func resolve(file string, fileLayer, overrides []setting, problems []*Error) (*Config, error) {
	v := viper.New()
	for _, s := range keys {
		v.SetDefault(s.key, cloneValue(s.def))
	}
	origins := make(map[string]origin)
	if len(fileLayer) > 0 {
		if err := v.MergeConfigMap(nest(fileLayer)); err != nil {
			return nil, fmt.Errorf("merge config %s: %w", file, err)
		}
		for _, s := range fileLayer {
			origins[s.key] = origin{source: s.source, line: s.line, seq: len(origins) + 1}
		}
	}
	for i, s := range overrides {
		origins[s.key] = origin{source: s.source, seq: len(fileLayer) + i + 1}
		v.Set(s.key, s.value)
	}
	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return nil, fmt.Errorf("decode resolved config: %w", err)
	}
	c.normalize()
	if c.Name == "" {
		c.Name = nameFromFile(file)
	}
	if err := join(append(problems, c.validate(origins)...), file); err != nil {
		return nil, err
	}
	return &c, nil
}

// normalize replaces nil lists by empty ones, so that equal configurations
// compare equal whatever their source.
func (c *Config) normalize() {
	for _, s := range keys {
		f, ok := field(c, s.key)
		if ok && f.Kind() == reflect.Slice && f.IsNil() {
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
		}
	}
}

// nameFromFile is the run name implied by a config file path.
func nameFromFile(file string) string {
	base := filepath.Base(file)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	if file == "" || name == "" || name == "." || name == ".." {
		return defaultName
	}
	return name
}
