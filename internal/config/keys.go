package config

import (
	"fmt"
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

	{key: "data.dir", kind: kindString, def: "", noEnv: true,
		doc: "Data directory; empty means resolve it from --data, LEPTON_DATA_DIR or the cache"},
	{key: "data.val_split", kind: kindFloat, def: 0.2,
		doc:   "Share of the training set held out for validation",
		rules: []rule{floatInRange(0, 1)}},

	{key: "model.input", kind: kindInt, def: 3072,
		doc:   "Flattened input size (32*32*3 for CIFAR-10)",
		rules: []rule{intAtLeast(1)}},
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
	{key: "model.classes", kind: kindInt, def: 10,
		doc:   "Number of output classes",
		rules: []rule{intAtLeast(2)}},

	{key: "train.epochs", kind: kindInt, def: 10,
		doc:   "Number of passes over the training set",
		rules: []rule{intAtLeast(1)}},
	{key: "train.batch_size", kind: kindInt, def: 128,
		doc:   "Mini-batch size",
		rules: []rule{intAtLeast(1)}},
	{key: "train.threads", kind: kindInt, def: 0,
		doc:   "Worker threads; 0 means all cores",
		rules: []rule{intAtLeast(0)}},
	{key: "train.loss", kind: kindString, def: "softmax_cross_entropy",
		doc:   "Loss function",
		rules: []rule{oneOf("softmax_cross_entropy")}},
	{key: "train.optimizer.name", kind: kindString, def: "adam",
		doc:   "Optimizer",
		rules: []rule{oneOf("adam", "sgd")}},
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
		doc:   "L2 weight decay (sgd and adam)",
		rules: []rule{floatAtLeast(0)}},

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
	noEnv bool // the key is never read from the environment
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

// rule is one validation constraint. msg completes "key: ..." and reads like
// "must be > 0"; ok reports whether a value satisfies it.
type rule struct {
	msg string
	ok  func(v any) bool
}

// check builds a rule for values of type T; values of any other type fail.
func check[T any](msg string, ok func(T) bool) rule {
	return rule{msg: msg, ok: func(v any) bool {
		t, isT := v.(T)
		return isT && ok(t)
	}}
}

func intAtLeast(n int) rule {
	return check(fmt.Sprintf("must be >= %d", n), func(v int) bool { return v >= n })
}

func eachAtLeast(n int) rule {
	return check(fmt.Sprintf("each size must be >= %d", n), func(v []int) bool {
		for _, x := range v {
			if x < n {
				return false
			}
		}
		return true
	})
}

func floatAbove(x float64) rule {
	return check(fmt.Sprintf("must be > %v", x), func(v float64) bool { return v > x })
}

func floatAtLeast(x float64) rule {
	return check(fmt.Sprintf("must be >= %v", x), func(v float64) bool { return v >= x })
}

// floatInRange accepts lo <= v < hi.
func floatInRange(lo, hi float64) rule {
	return check(fmt.Sprintf("must be >= %v and < %v", lo, hi), func(v float64) bool { return v >= lo && v < hi })
}

func oneOf(values ...string) rule {
	return check("must be one of "+strings.Join(values, ", "), func(v string) bool {
		for _, x := range values {
			if v == x {
				return true
			}
		}
		return false
	})
}

func nonEmpty() rule {
	return check("must not be empty", func(v string) bool { return v != "" })
}

// runName accepts names usable as a single path element.
func runName() rule {
	return check(`must be a non-empty name without path separators, "." or ".."`, func(v string) bool {
		return v != "" && v != "." && v != ".." && !strings.ContainsAny(v, `/\`) && !strings.ContainsRune(v, 0)
	})
}

// kind is the value type of a key.
type kind int

const (
	kindString kind = iota
	kindInt
	kindUint64
	kindFloat
	kindIntList
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
	default:
		return "want a string"
	}
}

// isFinite reports whether f is neither NaN nor infinite.
func isFinite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}
