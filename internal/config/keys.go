package config

import (
	"math"
	"strings"
)

// keys is the single registry of configuration keys. Each entry gives the
// key's full dotted path (matching the mapstructure/yaml tags of the Config
// struct), its value kind, its built-in default, its documentation and its
// validation rules. Defaults, the strict unknown-key check, the LEPTON_*
// environment mapping, validation and Reference all derive from this table.
//
// To add a key: add the field (with mapstructure and yaml tags) to the right
// struct in config.go and one entry here, in schema order.
var keys = []keySpec{
	{key: "name", kind: kindString, def: "",
		doc:   `Run name; empty means the config file's base name without extension, or "lepton" without a file`,
		rules: []rule{runName()}},
	{key: "seed", kind: kindUint64, def: uint64(42),
		doc: "Random seed; every random choice (init, shuffling, split) flows from it"},

	{key: "data.dataset", kind: kindString, def: "cifar10",
		doc:   "Data set: CIFAR-10 or CIFAR-100 (binary versions), MNIST or Fashion-MNIST (IDX files), or a folder of images DIR/<class>/**/<image> (PNG, JPEG, GIF, BMP, WebP)",
		rules: []rule{oneOf("cifar10", "cifar100", "mnist", "fashion-mnist", "folder")}},
	{key: "data.dir", kind: kindString, def: "", noEnv: true,
		doc: "Data directory (or archive); empty means resolve it from --data, LEPTON_DATA_DIR or the cache (folders need one)"},
	{key: "data.label", kind: kindString, def: "fine",
		doc:   "CIFAR-100 labels: fine (100 classes) or coarse (20 superclasses)",
		rules: []rule{oneOf("fine", "coarse")}},
	{key: "data.image_size", kind: kindIntList, def: []int{},
		doc:   "Image size [height, width] the images are resized to; empty means the data set's own ([32, 32] for folders)",
		rules: []rule{sizePair(4096)}},
	{key: "data.channels", kind: kindInt, def: 0,
		doc:   "Colour channels the images are converted to: 1 (grey) or 3 (RGB); 0 means the data set's own (3 for folders)",
		rules: []rule{intOneOf(0, 1, 3)}},
	{key: "data.resize", kind: kindString, def: "stretch",
		doc:   "How images of another aspect ratio are fitted to data.image_size: stretch, crop (the centre) or pad (with black)",
		rules: []rule{oneOf("stretch", "crop", "pad")}},
	{key: "data.val_split", kind: kindFloat, def: 0.2,
		doc:   "Share of the training set held out for validation",
		rules: []rule{floatInRange(0, 1)}},
	{key: "data.test_split", kind: kindFloat, def: 0.2,
		doc:   "Share of a folder held out as the test set (stratified, seeded) when it has no train/ and test/ sub-folders",
		rules: []rule{floatBetween(0, 1)}},
	{key: "data.on_error", kind: kindString, def: "skip",
		doc:   "A folder's undecodable files: skip (named on stderr and in report.json) or fail",
		rules: []rule{oneOf("skip", "fail")}},
	{key: "data.augment.flip", kind: kindBool, def: false,
		doc: "Random horizontal flip of training images"},
	{key: "data.augment.crop", kind: kindBool, def: false,
		doc: "Random crop of training images with zero padding"},
	{key: "data.augment.crop_padding", kind: kindInt, def: 4,
		doc:   "Zero padding in pixels around the random crop",
		rules: []rule{intAtLeast(0)}},
	{key: "data.augment.scale", kind: kindFloatList, def: []float64{},
		doc:   "Area range [min, max] of the random resized crop of training images; empty means off",
		rules: []rule{floatPair(true, 1)}},
	{key: "data.augment.ratio", kind: kindFloatList, def: []float64{0.75, 4.0 / 3},
		doc:   "Aspect-ratio range [min, max] of the random resized crop",
		rules: []rule{floatPair(false, math.Inf(1))}},
	{key: "data.workers", kind: kindInt, def: 0,
		doc:   "Batch-assembly goroutines; 0 means auto",
		rules: []rule{intAtLeast(0)}},

	{key: "model.input", kind: kindInt, def: 0,
		doc:   "Flattened input size, channels*height*width of the images (3072 for CIFAR-10, 784 for MNIST); 0 means from the data",
		rules: []rule{intAtLeast(0)}},
	{key: "model.hidden", kind: kindIntList, def: []int{128, 64, 32, 16},
		doc:   "Hidden layer sizes from input to output; may be empty",
		rules: []rule{eachAtLeast(1)}},
	{key: "model.activation", kind: kindString, def: "relu",
		doc:   "Hidden layer activation",
		rules: []rule{oneOf("relu", "tanh", "sigmoid", "leaky_relu")}},
	{key: "model.leaky_slope", kind: kindFloat, def: 0.01,
		doc:   "Negative slope of leaky_relu",
		rules: []rule{floatInRange(0, 1)}},
	{key: "model.init", kind: kindString, def: "he",
		doc:   "Weight initialisation",
		rules: []rule{oneOf("he", "glorot")}},
	{key: "model.classes", kind: kindInt, def: 0,
		doc:   "Number of output classes; 0 means the data set's",
		rules: []rule{zeroOrAtLeast(2)}},
	{key: "model.dropout", kind: kindFloatList, def: []float64{},
		doc:   "Dropout probability per hidden layer, or one value for all hidden layers; empty means none",
		rules: []rule{eachFloatInRange(0, 1)},
		cross: []crossRule{dropoutPerLayer()}},
	{key: "model.batch_norm", kind: kindBool, def: false,
		doc: "Batch normalization between hidden layers"},
	{key: "model.bn_momentum", kind: kindFloat, def: 0.1,
		doc:   "Batch-norm running-statistics momentum",
		rules: []rule{floatAboveAtMost(0, 1)}},
	{key: "model.bn_eps", kind: kindFloat, def: 1e-5,
		doc:   "Batch-norm numerical-stability epsilon",
		rules: []rule{floatAbove(0)}},

	{key: "train.epochs", kind: kindInt, def: 10,
		doc:   "Number of passes over the training set",
		rules: []rule{intAtLeast(1)}},
	{key: "train.batch_size", kind: kindInt, def: 128,
		doc:   "Mini-batch size",
		rules: []rule{intAtLeast(1)}},
	{key: "train.threads", kind: kindInt, def: 0,
		doc:   "Worker threads; 0 means all cores",
		rules: []rule{intAtLeast(0)}},
	{key: "train.shards", kind: kindInt, def: 2,
		doc:   "Data-parallel shards each batch is cut into, their gradients summed in shard order; fixes the arithmetic whatever train.threads (the shards run side by side with 2 threads or more); a batch gets at most one shard per row (per two rows with batch norm, whose statistics are per shard), so a larger value is capped, not refused",
		rules: []rule{intAtLeast(1)}},
	{key: "train.loss", kind: kindString, def: "softmax_cross_entropy",
		doc:   "Loss function",
		rules: []rule{oneOf("softmax_cross_entropy")}},
	{key: "train.optimizer.name", kind: kindString, def: "adam",
		doc:   "Optimizer",
		rules: []rule{oneOf("adam", "adamw", "sgd")}},
	{key: "train.optimizer.lr", kind: kindFloat, def: 0.001,
		doc:   "Learning rate",
		rules: []rule{floatAbove(0)}},
	{key: "train.optimizer.momentum", kind: kindFloat, def: 0.9,
		doc:   "SGD momentum",
		rules: []rule{floatInRange(0, 1)}},
	{key: "train.optimizer.beta1", kind: kindFloat, def: 0.9,
		doc:   "Adam first-moment decay",
		rules: []rule{floatInRange(0, 1)}},
	{key: "train.optimizer.beta2", kind: kindFloat, def: 0.999,
		doc:   "Adam second-moment decay",
		rules: []rule{floatInRange(0, 1)}},
	{key: "train.optimizer.eps", kind: kindFloat, def: 1e-8,
		doc:   "Adam numerical-stability epsilon",
		rules: []rule{floatAbove(0)}},
	{key: "train.optimizer.weight_decay", kind: kindFloat, def: 0.0,
		doc:   "Weight decay: an L2 penalty for sgd and adam, decoupled for adamw",
		rules: []rule{floatAtLeast(0)}},
	{key: "train.optimizer.nesterov", kind: kindBool, def: false,
		doc:   "SGD Nesterov momentum",
		cross: []crossRule{nesterovNeedsMomentum()}},
	{key: "train.optimizer.decay_bias", kind: kindBool, def: false,
		doc: "Also apply weight decay to biases and batch-norm parameters"},
	{key: "train.grad_clip", kind: kindFloat, def: 0.0,
		doc:   "Maximum global L2 norm of the gradients; 0 means off",
		rules: []rule{floatAtLeast(0)}},
	{key: "train.label_smoothing", kind: kindFloat, def: 0.0,
		doc:   "Label smoothing of the targets",
		rules: []rule{floatInRange(0, 1)}},
	{key: "train.checkpoint_every", kind: kindInt, def: 0,
		doc:   "Also write checkpoints/last every N optimizer steps; 0 means only at epoch ends",
		rules: []rule{intAtLeast(0)}},

	{key: "train.schedule.name", kind: kindString, def: "constant",
		doc:   "Learning-rate schedule",
		rules: []rule{oneOf("constant", "step", "cosine", "one_cycle", "plateau")},
		cross: []crossRule{needsValidation("plateau", "train.schedule.monitor", func(c *Config) (bool, string) {
			return c.Train.Schedule.Name == "plateau", c.Train.Schedule.Monitor
		})}},
	{key: "train.schedule.warmup_epochs", kind: kindFloat, def: 0.0,
		doc:   "Linear warmup length in epochs (cosine)",
		rules: []rule{floatAtLeast(0)}},
	{key: "train.schedule.min_lr", kind: kindFloat, def: 0.0,
		doc:   "Learning-rate floor (cosine, plateau)",
		rules: []rule{floatAtLeast(0)}},
	{key: "train.schedule.step_epochs", kind: kindInt, def: 30,
		doc:   "Decay the learning rate every N epochs (step)",
		rules: []rule{intAtLeast(1)}},
	{key: "train.schedule.gamma", kind: kindFloat, def: 0.1,
		doc:   "Learning-rate decay factor (step)",
		rules: []rule{floatAboveAtMost(0, 1)}},
	{key: "train.schedule.pct_start", kind: kindFloat, def: 0.3,
		doc:   "Share of steps rising to train.optimizer.lr (one_cycle)",
		rules: []rule{floatBetween(0, 1)}},
	{key: "train.schedule.div_factor", kind: kindFloat, def: 25.0,
		doc:   "Initial learning rate is lr/div_factor (one_cycle)",
		rules: []rule{floatAtLeast(1)}},
	{key: "train.schedule.final_div_factor", kind: kindFloat, def: 1e4,
		doc:   "Final learning rate is the initial one/final_div_factor (one_cycle)",
		rules: []rule{floatAtLeast(1)}},
	{key: "train.schedule.factor", kind: kindFloat, def: 0.1,
		doc:   "Multiply the learning rate by this on a plateau (plateau)",
		rules: []rule{floatBetween(0, 1)}},
	{key: "train.schedule.patience", kind: kindInt, def: 5,
		doc:   "Epochs without improvement before the learning rate drops (plateau)",
		rules: []rule{intAtLeast(0)}},
	{key: "train.schedule.threshold", kind: kindFloat, def: 1e-4,
		doc:   "Relative improvement that counts (plateau)",
		rules: []rule{floatAtLeast(0)}},
	{key: "train.schedule.monitor", kind: kindString, def: "val_loss",
		doc:   "Validation metric watched (plateau)",
		rules: []rule{oneOf("val_loss", "val_acc")}},

	{key: "train.early_stopping.enabled", kind: kindBool, def: false,
		doc: "Stop training when the monitored validation metric stops improving",
		cross: []crossRule{needsValidation("true", "train.early_stopping.monitor", func(c *Config) (bool, string) {
			return c.Train.EarlyStopping.Enabled, c.Train.EarlyStopping.Monitor
		})}},
	{key: "train.early_stopping.monitor", kind: kindString, def: "val_acc",
		doc:   "Validation metric watched",
		rules: []rule{oneOf("val_loss", "val_acc")}},
	{key: "train.early_stopping.patience", kind: kindInt, def: 5,
		doc:   "Epochs without improvement before stopping",
		rules: []rule{intAtLeast(1)}},
	{key: "train.early_stopping.min_delta", kind: kindFloat, def: 0.0,
		doc:   "Smallest change of the metric that counts as an improvement",
		rules: []rule{floatAtLeast(0)}},
	{key: "train.early_stopping.restore_best", kind: kindBool, def: true,
		doc: "Make the best epoch's weights (checkpoints/best) the final model that report.json tests; false: the last epoch's"},

	{key: "output.dir", kind: kindString, def: "runs",
		doc:   "Parent directory of run directories",
		rules: []rule{nonEmpty()}},
}

// envPrefix prefixes the environment variable of every key.
const envPrefix = "LEPTON_"

// keySpec describes one configuration key; see keys.
type keySpec struct {
	key   string
	kind  kind
	def   any
	doc   string
	rules []rule
	cross []crossRule // checked after rules, once the key's own value is valid
	noEnv bool        // the key is never read from the environment
}

// envName returns the environment variable for s, or "" when s has none.
func (s keySpec) envName() string {
	if s.noEnv {
		return ""
	}
	return envPrefix + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

// lookupKey returns the spec for key.
func lookupKey(key string) (keySpec, bool) {
	for _, s := range keys {
		if s.key == key {
			return s, true
		}
	}
	return keySpec{}, false
}

// isSection reports whether path is a proper prefix (section) of some key.
func isSection(path string) bool {
	if path == "" {
		return true
	}
	for _, s := range keys {
		if strings.HasPrefix(s.key, path+".") {
			return true
		}
	}
	return false
}

// firstKeyUnder returns the first key inside section path.
func firstKeyUnder(path string) string {
	for _, s := range keys {
		if strings.HasPrefix(s.key, path+".") {
			return s.key
		}
	}
	return ""
}

// knownPaths lists every key and every section, in schema order.
func knownPaths() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range keys {
		parts := strings.Split(s.key, ".")
		for i := 1; i <= len(parts); i++ {
			p := strings.Join(parts[:i], ".")
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// kind is the value type of a key.
type kind int

const (
	kindString kind = iota
	kindInt
	kindUint64
	kindFloat
	kindIntList
	kindBool
	kindFloatList
)

// typeName is the type shown by Reference.
func (k kind) typeName() string {
	switch k {
	case kindInt:
		return "int"
	case kindUint64:
		return "uint64"
	case kindFloat:
		return "float"
	case kindIntList:
		return "list of int"
	case kindBool:
		return "bool"
	case kindFloatList:
		return "list of float"
	default:
		return "string"
	}
}

// want is the type-mismatch message.
func (k kind) want() string {
	switch k {
	case kindInt:
		return "want an integer"
	case kindUint64:
		return "want a non-negative integer"
	case kindFloat:
		return "want a finite number"
	case kindIntList:
		return "want a list of integers"
	case kindBool:
		return "want a boolean"
	case kindFloatList:
		return "want a list of numbers"
	default:
		return "want a string"
	}
}
