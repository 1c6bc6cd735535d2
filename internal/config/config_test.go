package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// defaults is the documented default configuration, written out by hand.
func defaults() Config {
	return Config{
		Name: "lepton",
		Seed: 42,
		Data: Data{
			Dataset: "cifar10", Dir: "", Label: "fine", ImageSize: []int{}, Channels: 0, Resize: "stretch",
			ValSplit: 0.2, TestSplit: 0.2, OnError: "skip",
			Augment: Augment{
				Flip: false, Crop: false, CropPadding: 4,
				Scale: []float64{}, Ratio: []float64{0.75, 1.3333333333333333},
			},
			Workers: 0,
		},
		Model: Model{
			Input: 0, Hidden: []int{128, 64, 32, 16}, Activation: "relu",
			LeakySlope: 0.01, Init: "he", Classes: 0,
			Dropout: []float64{}, BatchNorm: false, BNMomentum: 0.1, BNEps: 1e-5,
		},
		Train: Train{
			Epochs: 10, BatchSize: 128, Threads: 0, Shards: 2, Loss: "softmax_cross_entropy",
			Optimizer: Optimizer{
				Name: "adam", LR: 0.001, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999,
				Eps: 1e-8, WeightDecay: 0, Nesterov: false, DecayBias: false,
			},
			GradClip: 0, LabelSmoothing: 0, CheckpointEvery: 0,
			Schedule: Schedule{
				Name: "constant", WarmupEpochs: 0, MinLR: 0, StepEpochs: 30, Gamma: 0.1,
				PctStart: 0.3, DivFactor: 25, FinalDivFactor: 10000,
				Factor: 0.1, Patience: 5, Threshold: 1e-4, Monitor: "val_loss",
			},
			EarlyStopping: EarlyStopping{
				Enabled: false, Monitor: "val_acc", Patience: 5, MinDelta: 0, RestoreBest: true,
			},
		},
		Output: Output{Dir: "runs"},
	}
}

// inDir makes a temp dir the working directory, writes files (relative
// path -> content) there and returns it.
func inDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDefault(t *testing.T) {
	got := Default()
	if !reflect.DeepEqual(got, defaults()) {
		t.Fatalf("Default() = %+v, want %+v", got, defaults())
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	loaded, err := Load(LoadOptions{})
	if err != nil {
		t.Fatalf("Load(empty) = %v", err)
	}
	if !reflect.DeepEqual(*loaded, got) {
		t.Fatalf("Load(empty) = %+v, want Default() %+v", *loaded, got)
	}
	// Default must hand out fresh slices.
	got.Model.Hidden[0] = 1
	if Default().Model.Hidden[0] != 128 {
		t.Fatal("Default() shares its Hidden slice between calls")
	}
	got.Data.Augment.Ratio[0] = 1
	if Default().Data.Augment.Ratio[0] != 0.75 {
		t.Fatal("Default() shares its Ratio slice between calls")
	}
}

func TestReferenceModelFile(t *testing.T) {
	cfg, err := Load(LoadOptions{File: filepath.Join("..", "..", "configs", "mlp.yaml")})
	if err != nil {
		t.Fatalf("load configs/mlp.yaml: %v", err)
	}
	want := defaults()
	want.Name = "mlp"
	// mlp.yaml spells out CIFAR-10's input size and classes, which
	// follow from the data by default.
	want.Model.Input, want.Model.Classes = 3072, 10
	if !reflect.DeepEqual(*cfg, want) {
		t.Fatalf("configs/mlp.yaml = %+v, want %+v", *cfg, want)
	}
}

func TestPrecedence(t *testing.T) {
	file := "train:\n  epochs: 3\n  batch_size: 64\nmodel:\n  hidden: [10]\n"
	tests := []struct {
		name  string
		file  string // "" for no file
		env   []string
		sets  []string
		check func(c *Config) (got, want any)
	}{
		{name: "default", check: func(c *Config) (any, any) { return c.Train.Epochs, 10 }},
		{name: "file beats default", file: file,
			check: func(c *Config) (any, any) { return c.Train.Epochs, 3 }},
		{name: "file keeps other defaults in its section", file: file,
			check: func(c *Config) (any, any) { return c.Train.Threads, 0 }},
		{name: "env beats file", file: file, env: []string{"LEPTON_TRAIN_EPOCHS=5"},
			check: func(c *Config) (any, any) { return c.Train.Epochs, 5 }},
		{name: "env beats default", env: []string{"LEPTON_TRAIN_OPTIMIZER_LR=0.5"},
			check: func(c *Config) (any, any) { return c.Train.Optimizer.LR, 0.5 }},
		{name: "set beats env", file: file, env: []string{"LEPTON_TRAIN_EPOCHS=5"}, sets: []string{"train.epochs=7"},
			check: func(c *Config) (any, any) { return c.Train.Epochs, 7 }},
		{name: "later set wins", sets: []string{"train.epochs=7", "train.epochs=8"},
			check: func(c *Config) (any, any) { return c.Train.Epochs, 8 }},
		{name: "last env entry wins", env: []string{"LEPTON_SEED=1", "LEPTON_SEED=2"},
			check: func(c *Config) (any, any) { return c.Seed, uint64(2) }},
		{name: "env list", file: file, env: []string{"LEPTON_MODEL_HIDDEN=256,128"},
			check: func(c *Config) (any, any) { return c.Model.Hidden, []int{256, 128} }},
		{name: "set list beats file", file: file, sets: []string{"model.hidden=[5, 6]"},
			check: func(c *Config) (any, any) { return c.Model.Hidden, []int{5, 6} }},
		{name: "data.dir not read from env", env: []string{"LEPTON_DATA_DIR=/x"},
			check: func(c *Config) (any, any) { return c.Data.Dir, "" }},
		{name: "data.dir from set", env: []string{"LEPTON_DATA_DIR=/x"}, sets: []string{"data.dir=/y"},
			check: func(c *Config) (any, any) { return c.Data.Dir, "/y" }},
		{name: "unrelated LEPTON vars ignored", env: []string{"LEPTON_CHECKPOINT=abc", "LEPTON_TRAIN_EPOCH=x", "PATH=/bin"},
			check: func(c *Config) (any, any) { return c.Train.Epochs, 10 }},
		{name: "name from file base name", file: file,
			check: func(c *Config) (any, any) { return c.Name, "x" }},
		{name: "name from file beats base name", file: "name: mine\n",
			check: func(c *Config) (any, any) { return c.Name, "mine" }},
		{name: "name from env", file: file, env: []string{"LEPTON_NAME=envname"},
			check: func(c *Config) (any, any) { return c.Name, "envname" }},
		{name: "name without file", check: func(c *Config) (any, any) { return c.Name, "lepton" }},
		{name: "empty file is all defaults", file: "# nothing\n",
			check: func(c *Config) (any, any) { return c.Train.Optimizer.Name, "adam" }},
		{name: "null section keeps defaults", file: "data:\n",
			check: func(c *Config) (any, any) { return c.Data.ValSplit, 0.2 }},
		{name: "bool from file", file: "model:\n  batch_norm: true\n",
			check: func(c *Config) (any, any) { return c.Model.BatchNorm, true }},
		{name: "bool env beats file", file: "model:\n  batch_norm: true\n", env: []string{"LEPTON_MODEL_BATCH_NORM=0"},
			check: func(c *Config) (any, any) { return c.Model.BatchNorm, false }},
		{name: "bool set beats env", env: []string{"LEPTON_MODEL_BATCH_NORM=false"}, sets: []string{"model.batch_norm=1"},
			check: func(c *Config) (any, any) { return c.Model.BatchNorm, true }},
		{name: "bool default true kept", file: "train:\n  early_stopping:\n    enabled: true\n",
			check: func(c *Config) (any, any) { return c.Train.EarlyStopping, EarlyStopping{true, "val_acc", 5, 0, true} }},
		{name: "deep section in file keeps defaults", file: "data:\n  augment:\n    flip: true\n",
			check: func(c *Config) (any, any) {
				return c.Data.Augment, Augment{true, false, 4, []float64{}, []float64{0.75, 4.0 / 3}}
			}},
		{name: "float list from file", file: "data:\n  augment:\n    scale: [0.08, 1]\n",
			check: func(c *Config) (any, any) { return c.Data.Augment.Scale, []float64{0.08, 1} }},
		{name: "float list env beats file", file: "model:\n  hidden: [8, 8]\n  dropout: [0.1, 0.2]\n",
			env:   []string{"LEPTON_MODEL_DROPOUT=0.3,0.4"},
			check: func(c *Config) (any, any) { return c.Model.Dropout, []float64{0.3, 0.4} }},
		{name: "float list set beats env", env: []string{"LEPTON_MODEL_DROPOUT=0.3"}, sets: []string{"model.dropout="},
			check: func(c *Config) (any, any) { return c.Model.Dropout, []float64{} }},
		{name: "nested string env", env: []string{"LEPTON_TRAIN_SCHEDULE_NAME=cosine"},
			check: func(c *Config) (any, any) { return c.Train.Schedule.Name, "cosine" }},
		{name: "deep env beats file", file: "train:\n  early_stopping:\n    patience: 3\n",
			env:   []string{"LEPTON_TRAIN_EARLY_STOPPING_PATIENCE=7"},
			check: func(c *Config) (any, any) { return c.Train.EarlyStopping.Patience, 7 }},
		{name: "dropout and hidden from different sources", file: "model:\n  dropout: [0.1, 0.2]\n", sets: []string{"model.hidden=4,4"},
			check: func(c *Config) (any, any) { return c.Model.Dropout, []float64{0.1, 0.2} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Env: tt.env, Sets: tt.sets}
			if tt.file != "" {
				inDir(t, map[string]string{"configs/x.yaml": tt.file})
				opts.File = "configs/x.yaml"
			}
			cfg, err := Load(opts)
			if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			if got, want := tt.check(cfg); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestSetValues(t *testing.T) {
	tests := []struct {
		name string
		set  string
		want func(c *Config) (got, want any)
	}{
		{name: "int", set: "train.epochs=5", want: func(c *Config) (any, any) { return c.Train.Epochs, 5 }},
		{name: "flow list", set: "model.hidden=[256,128]", want: func(c *Config) (any, any) { return c.Model.Hidden, []int{256, 128} }},
		{name: "comma list", set: "model.hidden=256,128", want: func(c *Config) (any, any) { return c.Model.Hidden, []int{256, 128} }},
		{name: "comma list with spaces", set: "model.hidden=256, 128", want: func(c *Config) (any, any) { return c.Model.Hidden, []int{256, 128} }},
		{name: "single int list", set: "model.hidden=64", want: func(c *Config) (any, any) { return c.Model.Hidden, []int{64} }},
		{name: "empty list", set: "model.hidden=[]", want: func(c *Config) (any, any) { return c.Model.Hidden, []int{} }},
		{name: "empty text list", set: "model.hidden=", want: func(c *Config) (any, any) { return c.Model.Hidden, []int{} }},
		{name: "string", set: "model.activation=tanh", want: func(c *Config) (any, any) { return c.Model.Activation, "tanh" }},
		{name: "numeric text as string", set: "name=2024", want: func(c *Config) (any, any) { return c.Name, "2024" }},
		{name: "quoted string", set: `name="my run"`, want: func(c *Config) (any, any) { return c.Name, "my run" }},
		{name: "int as float", set: "train.optimizer.lr=1", want: func(c *Config) (any, any) { return c.Train.Optimizer.LR, 1.0 }},
		{name: "exponent float", set: "train.optimizer.eps=1e-6", want: func(c *Config) (any, any) { return c.Train.Optimizer.Eps, 1e-6 }},
		{name: "large seed", set: "seed=18446744073709551615", want: func(c *Config) (any, any) { return c.Seed, uint64(18446744073709551615) }},
		{name: "value containing =", set: "output.dir=a=b", want: func(c *Config) (any, any) { return c.Output.Dir, "a=b" }},
		{name: "bool true", set: "data.augment.flip=true", want: func(c *Config) (any, any) { return c.Data.Augment.Flip, true }},
		{name: "bool 1", set: "data.augment.flip=1", want: func(c *Config) (any, any) { return c.Data.Augment.Flip, true }},
		{name: "bool false", set: "train.early_stopping.restore_best=false", want: func(c *Config) (any, any) { return c.Train.EarlyStopping.RestoreBest, false }},
		{name: "bool 0", set: "train.early_stopping.restore_best=0", want: func(c *Config) (any, any) { return c.Train.EarlyStopping.RestoreBest, false }},
		{name: "bool with spaces", set: "model.batch_norm= true ", want: func(c *Config) (any, any) { return c.Model.BatchNorm, true }},
		{name: "float flow list", set: "data.augment.scale=[0.1, 0.2]", want: func(c *Config) (any, any) { return c.Data.Augment.Scale, []float64{0.1, 0.2} }},
		{name: "float comma list", set: "data.augment.scale=0.1,0.2", want: func(c *Config) (any, any) { return c.Data.Augment.Scale, []float64{0.1, 0.2} }},
		{name: "float comma list with spaces and ints", set: "data.augment.ratio=1, 2", want: func(c *Config) (any, any) { return c.Data.Augment.Ratio, []float64{1, 2} }},
		{name: "float bracketed comma list", set: "data.augment.ratio=[.5,2e0]", want: func(c *Config) (any, any) { return c.Data.Augment.Ratio, []float64{0.5, 2} }},
		{name: "single float list", set: "model.dropout=0.5", want: func(c *Config) (any, any) { return c.Model.Dropout, []float64{0.5} }},
		{name: "single int as float list", set: "model.dropout=0", want: func(c *Config) (any, any) { return c.Model.Dropout, []float64{0} }},
		{name: "empty float list", set: "model.dropout=[]", want: func(c *Config) (any, any) { return c.Model.Dropout, []float64{} }},
		{name: "empty text float list", set: "model.dropout=", want: func(c *Config) (any, any) { return c.Model.Dropout, []float64{} }},
		{name: "adamw", set: "train.optimizer.name=adamw", want: func(c *Config) (any, any) { return c.Train.Optimizer.Name, "adamw" }},
		{name: "int as float schedule key", set: "train.schedule.div_factor=10", want: func(c *Config) (any, any) { return c.Train.Schedule.DivFactor, 10.0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{Sets: []string{tt.set}})
			if err != nil {
				t.Fatalf("Load(--set %s) = %v", tt.set, err)
			}
			if got, want := tt.want(cfg); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // content of configs/x.yaml; "" for no file
		env  []string
		sets []string
		want string
	}{
		{name: "unknown key in file", file: "train:\n  epoch: 3\n",
			want: "configs/x.yaml:2: train.epoch: unknown key (did you mean train.epochs?)"},
		{name: "unknown nested key in file", file: "train:\n  optimizer:\n    lrr: 0.1\n",
			want: "configs/x.yaml:3: train.optimizer.lrr: unknown key (did you mean train.optimizer.lr?)"},
		{name: "unknown section in file", file: "trian:\n  epochs: 3\n",
			want: "configs/x.yaml:1: trian: unknown key (did you mean train?)"},
		{name: "unknown key without suggestion", file: "colour: blue\n",
			want: "configs/x.yaml:1: colour: unknown key"},
		{name: "keys are case-sensitive", file: "Seed: 1\n",
			want: "configs/x.yaml:1: Seed: unknown key (did you mean seed?)"},
		{name: "string for int", file: "train:\n  epochs: ten\n",
			want: `configs/x.yaml:2: train.epochs: want an integer, got "ten"`},
		{name: "quoted number for int", file: "train:\n  epochs: \"10\"\n",
			want: `configs/x.yaml:2: train.epochs: want an integer, got "10"`},
		{name: "float for int", file: "train:\n  epochs: 2.5\n",
			want: "configs/x.yaml:2: train.epochs: want an integer, got 2.5"},
		{name: "negative seed", file: "seed: -1\n",
			want: "configs/x.yaml:1: seed: want a non-negative integer, got -1"},
		{name: "number for string", file: "model:\n  activation: 3\n",
			want: "configs/x.yaml:2: model.activation: want a string, got 3"},
		{name: "null for int", file: "train:\n  epochs:\n",
			want: "configs/x.yaml:2: train.epochs: want an integer, got null"},
		{name: "scalar list", file: "model:\n  hidden: 128\n",
			want: "configs/x.yaml:2: model.hidden: want a list of integers, got 128"},
		{name: "bad list element", file: "model:\n  hidden: [128, x]\n",
			want: `configs/x.yaml:2: model.hidden: want a list of integers, got [128, "x"]`},
		{name: "nan float", file: "train:\n  optimizer:\n    lr: .nan\n",
			want: "configs/x.yaml:3: train.optimizer.lr: want a finite number, got .nan"},
		{name: "section given a scalar", file: "train: 3\n",
			want: "configs/x.yaml:1: train: want a mapping of keys, got 3"},
		{name: "top level not a mapping", file: "- 1\n- 2\n",
			want: "configs/x.yaml:1: want a mapping of config keys at the top level, got [1, 2]"},
		{name: "duplicate key", file: "seed: 1\nseed: 2\n",
			want: "configs/x.yaml:2: seed: duplicate key"},
		{name: "several documents", file: "seed: 1\n---\nseed: 2\n",
			want: "configs/x.yaml:2: want a single YAML document, found several"},
		{name: "invalid YAML", file: "train: [1\n",
			want: "configs/x.yaml: invalid YAML: yaml: line 1: did not find expected ',' or ']'"},
		{name: "validation in file names file", file: "train:\n  optimizer:\n    lr: -1\n",
			want: "configs/x.yaml:3: train.optimizer.lr: must be > 0, got -1"},
		{name: "enum in file", file: "model:\n  activation: gelu\n",
			want: `configs/x.yaml:2: model.activation: must be one of relu, tanh, sigmoid, leaky_relu, got "gelu"`},
		{name: "env wrong type", env: []string{"LEPTON_TRAIN_EPOCHS=abc"},
			want: `LEPTON_TRAIN_EPOCHS=abc: train.epochs: want an integer, got "abc"`},
		{name: "env empty int", env: []string{"LEPTON_TRAIN_EPOCHS="},
			want: `LEPTON_TRAIN_EPOCHS=: train.epochs: want an integer, got ""`},
		{name: "env invalid value", env: []string{"LEPTON_TRAIN_EPOCHS=0"},
			want: "LEPTON_TRAIN_EPOCHS=0: train.epochs: must be >= 1, got 0"},
		{name: "set unknown key", sets: []string{"train.epoch=3"},
			want: "--set train.epoch=3: unknown key (did you mean train.epochs?)"},
		{name: "set unknown nested key", sets: []string{"train.optimizer.lrr=3"},
			want: "--set train.optimizer.lrr=3: unknown key (did you mean train.optimizer.lr?)"},
		{name: "set leaf under wrong section", sets: []string{"optimizer.lr=3"},
			want: "--set optimizer.lr=3: unknown key (did you mean train.optimizer.lr?)"},
		{name: "set malformed", sets: []string{"foo"},
			want: "--set foo: want key=value"},
		{name: "set empty key", sets: []string{"=3"},
			want: "--set =3: want key=value"},
		{name: "set section", sets: []string{"train=3"},
			want: "--set train=3: train is a section, not a key; set one of its keys, e.g. train.epochs"},
		{name: "set float for int", sets: []string{"train.epochs=2.5"},
			want: "--set train.epochs=2.5: want an integer, got 2.5"},
		{name: "set bad list", sets: []string{"model.hidden=256,x"},
			want: `--set model.hidden=256,x: want a list of integers, got "256,x"`},
		{name: "set validation names set", sets: []string{"model.hidden=[64,0]"},
			want: "--set model.hidden=[64,0]: each size must be >= 1, got [64, 0]"},
		{name: "set later error wins over valid earlier", sets: []string{"train.epochs=3", "train.epochs=-3"},
			want: "--set train.epochs=-3: must be >= 1, got -3"},
		{name: "set path separator in name", sets: []string{"name=a/b"},
			want: `--set name=a/b: must be a non-empty name without path separators, "." or "..", got "a/b"`},
		{name: "bool words in file", file: "model:\n  batch_norm: yes please\n",
			want: `configs/x.yaml:2: model.batch_norm: want a boolean, got "yes please"`},
		{name: "YAML 1.1 yes is not a bool", file: "model:\n  batch_norm: yes\n",
			want: `configs/x.yaml:2: model.batch_norm: want a boolean, got "yes"`},
		{name: "quoted bool in file", file: "model:\n  batch_norm: \"true\"\n",
			want: `configs/x.yaml:2: model.batch_norm: want a boolean, got "true"`},
		{name: "number for bool in file", file: "model:\n  batch_norm: 1\n",
			want: "configs/x.yaml:2: model.batch_norm: want a boolean, got 1"},
		{name: "null for bool in file", file: "data:\n  augment:\n    flip:\n",
			want: "configs/x.yaml:3: data.augment.flip: want a boolean, got null"},
		{name: "set bool words", sets: []string{"model.batch_norm=yes please"},
			want: `--set model.batch_norm=yes please: want a boolean, got "yes please"`},
		{name: "set bool 2", sets: []string{"model.batch_norm=2"},
			want: "--set model.batch_norm=2: want a boolean, got 2"},
		{name: "set empty bool", sets: []string{"model.batch_norm="},
			want: `--set model.batch_norm=: want a boolean, got ""`},
		{name: "env bool", env: []string{"LEPTON_DATA_AUGMENT_CROP=on"},
			want: `LEPTON_DATA_AUGMENT_CROP=on: data.augment.crop: want a boolean, got "on"`},
		{name: "scalar float list in file", file: "model:\n  dropout: 0.5\n",
			want: "configs/x.yaml:2: model.dropout: want a list of numbers, got 0.5"},
		{name: "bad float list element in file", file: "model:\n  dropout: [0.5, x]\n",
			want: `configs/x.yaml:2: model.dropout: want a list of numbers, got [0.5, "x"]`},
		{name: "nan in float list", file: "model:\n  dropout: [.nan]\n",
			want: "configs/x.yaml:2: model.dropout: want a list of numbers, got [.nan]"},
		{name: "set bad float list", sets: []string{"model.dropout=0.1,x"},
			want: `--set model.dropout=0.1,x: want a list of numbers, got "0.1,x"`},
		{name: "set float list with empty element", sets: []string{"model.dropout=0.1,"},
			want: `--set model.dropout=0.1,: want a list of numbers, got "0.1,"`},
		{name: "set float list inf", sets: []string{"data.augment.ratio=1,inf"},
			want: `--set data.augment.ratio=1,inf: want a list of numbers, got "1,inf"`},
		{name: "env bad float list", env: []string{"LEPTON_DATA_AUGMENT_SCALE=[a]"},
			want: `LEPTON_DATA_AUGMENT_SCALE=[a]: data.augment.scale: want a list of numbers, got ["a"]`},
		{name: "set dropout out of range", sets: []string{"model.dropout=[0.5, 1]"},
			want: "--set model.dropout=[0.5, 1]: each value must be >= 0 and < 1, got [0.5, 1]"},
		{name: "dropout length in file", file: "model:\n  hidden: [8, 8, 8, 8]\n  dropout: [0.1, 0.2, 0.3]\n",
			want: "configs/x.yaml:3: model.dropout: has 3 values but model.hidden has 4 layers"},
		{name: "dropout length blames the later hidden set", sets: []string{"model.hidden=8"}, file: "model:\n  dropout: [0.1, 0.2, 0.3, 0.4]\n",
			want: "--set model.hidden=8: model.dropout: has 4 values but model.hidden has 1 layer"},
		{name: "dropout length blames the later dropout env", env: []string{"LEPTON_MODEL_DROPOUT=0.1,0.2"},
			want: "LEPTON_MODEL_DROPOUT=0.1,0.2: model.dropout: has 2 values but model.hidden has 4 layers"},
		{name: "dropout length with empty hidden", sets: []string{"model.hidden=", "model.dropout=[0.1, 0.2]"},
			want: "--set model.dropout=[0.1, 0.2]: has 2 values but model.hidden has 0 layers"},
		{name: "nesterov without momentum", sets: []string{"train.optimizer.momentum=0", "train.optimizer.nesterov=true"},
			want: "--set train.optimizer.nesterov=true: true requires train.optimizer.momentum > 0, but it is 0"},
		{name: "nesterov blames the later momentum set", file: "train:\n  optimizer:\n    nesterov: true\n", sets: []string{"train.optimizer.momentum=0"},
			want: "--set train.optimizer.momentum=0: train.optimizer.nesterov: true requires train.optimizer.momentum > 0, but it is 0"},
		{name: "early stopping without a validation split", sets: []string{"data.val_split=0", "train.early_stopping.enabled=true"},
			want: "--set train.early_stopping.enabled=true: true watches train.early_stopping.monitor (val_acc), which needs data.val_split > 0, but it is 0"},
		{name: "early stopping blames the later val_split", file: "train:\n  early_stopping:\n    enabled: true\n    monitor: val_loss\n", sets: []string{"data.val_split=0"},
			want: "--set data.val_split=0: train.early_stopping.enabled: true watches train.early_stopping.monitor (val_loss), which needs data.val_split > 0, but it is 0"},
		{name: "plateau without a validation split", file: "data:\n  val_split: 0\ntrain:\n  schedule:\n    name: plateau\n",
			want: "configs/x.yaml:5: train.schedule.name: plateau watches train.schedule.monitor (val_loss), which needs data.val_split > 0, but it is 0"},
		{name: "schedule name", sets: []string{"train.schedule.name=linear"},
			want: `--set train.schedule.name=linear: must be one of constant, step, cosine, one_cycle, plateau, got "linear"`},
		{name: "scale range in file", file: "data:\n  augment:\n    scale: [0.5, 1.5]\n",
			want: "configs/x.yaml:3: data.augment.scale: must be empty or [min, max] with 0 < min <= max <= 1, got [0.5, 1.5]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Env: tt.env, Sets: tt.sets}
			if tt.file != "" {
				inDir(t, map[string]string{"configs/x.yaml": tt.file})
				opts.File = "configs/x.yaml"
			}
			cfg, err := Load(opts)
			if err == nil {
				t.Fatalf("Load() = %+v, want error %q", cfg, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() error %v (%T) is not a *config.Error", err, err)
			}
			if err.Error() != tt.want {
				t.Fatalf("Load() error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	inDir(t, nil)
	_, err := Load(LoadOptions{File: "configs/nope.yaml"})
	if err == nil {
		t.Fatal("Load(missing file) succeeded")
	}
	if want := "open config configs/nope.yaml: no such file or directory"; err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not a *config.Error", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string // "" for valid
	}{
		{name: "defaults valid", mutate: func(c *Config) {}},
		{name: "empty hidden valid", mutate: func(c *Config) { c.Model.Hidden = nil }},
		{name: "lr", mutate: func(c *Config) { c.Train.Optimizer.LR = -1 },
			want: "train.optimizer.lr: must be > 0, got -1"},
		{name: "zero lr", mutate: func(c *Config) { c.Train.Optimizer.LR = 0 },
			want: "train.optimizer.lr: must be > 0, got 0"},
		{name: "activation", mutate: func(c *Config) { c.Model.Activation = "gelu" },
			want: `model.activation: must be one of relu, tanh, sigmoid, leaky_relu, got "gelu"`},
		{name: "init", mutate: func(c *Config) { c.Model.Init = "xavier" },
			want: `model.init: must be one of he, glorot, got "xavier"`},
		{name: "optimizer", mutate: func(c *Config) { c.Train.Optimizer.Name = "rmsprop" },
			want: `train.optimizer.name: must be one of adam, adamw, sgd, got "rmsprop"`},
		{name: "loss", mutate: func(c *Config) { c.Train.Loss = "mse" },
			want: `train.loss: must be one of softmax_cross_entropy, got "mse"`},
		{name: "val_split 1", mutate: func(c *Config) { c.Data.ValSplit = 1 },
			want: "data.val_split: must be >= 0 and < 1, got 1"},
		{name: "val_split 0 valid", mutate: func(c *Config) { c.Data.ValSplit = 0 }},
		{name: "negative val_split", mutate: func(c *Config) { c.Data.ValSplit = -0.1 },
			want: "data.val_split: must be >= 0 and < 1, got -0.1"},
		{name: "leaky slope", mutate: func(c *Config) { c.Model.LeakySlope = 1.5 },
			want: "model.leaky_slope: must be >= 0 and < 1, got 1.5"},
		{name: "beta2", mutate: func(c *Config) { c.Train.Optimizer.Beta2 = 1 },
			want: "train.optimizer.beta2: must be >= 0 and < 1, got 1"},
		{name: "eps", mutate: func(c *Config) { c.Train.Optimizer.Eps = 0 },
			want: "train.optimizer.eps: must be > 0, got 0"},
		{name: "weight decay", mutate: func(c *Config) { c.Train.Optimizer.WeightDecay = -1e-4 },
			want: "train.optimizer.weight_decay: must be >= 0, got -0.0001"},
		{name: "momentum", mutate: func(c *Config) { c.Train.Optimizer.Momentum = -0.5 },
			want: "train.optimizer.momentum: must be >= 0 and < 1, got -0.5"},
		{name: "classes", mutate: func(c *Config) { c.Model.Classes = 1 },
			want: "model.classes: must be 0 or >= 2, got 1"},
		{name: "input", mutate: func(c *Config) { c.Model.Input = -1 },
			want: "model.input: must be >= 0, got -1"},
		{name: "input from the data", mutate: func(c *Config) { c.Model.Input, c.Model.Classes = 0, 0 }},
		{name: "dataset", mutate: func(c *Config) { c.Data.Dataset = "imagenet" },
			want: "data.dataset: must be one of cifar10, cifar100, mnist, fashion-mnist, folder, got \"imagenet\""},
		{name: "label", mutate: func(c *Config) { c.Data.Label = "medium" },
			want: "data.label: must be one of fine, coarse, got \"medium\""},
		{name: "image size", mutate: func(c *Config) { c.Data.ImageSize = []int{28} },
			want: "data.image_size: must be empty or [height, width] with each in 1..4096, got [28]"},
		{name: "image size too large", mutate: func(c *Config) { c.Data.ImageSize = []int{28, 5000} },
			want: "data.image_size: must be empty or [height, width] with each in 1..4096, got [28, 5000]"},
		{name: "image size valid", mutate: func(c *Config) { c.Data.ImageSize = []int{28, 40} }},
		{name: "channels", mutate: func(c *Config) { c.Data.Channels = 2 },
			want: "data.channels: must be one of 0, 1, 3, got 2"},
		{name: "resize", mutate: func(c *Config) { c.Data.Resize = "zoom" },
			want: "data.resize: must be one of stretch, crop, pad, got \"zoom\""},
		{name: "test split", mutate: func(c *Config) { c.Data.TestSplit = 0 },
			want: "data.test_split: must be > 0 and < 1, got 0"},
		{name: "on error", mutate: func(c *Config) { c.Data.OnError = "ignore" },
			want: "data.on_error: must be one of skip, fail, got \"ignore\""},
		{name: "hidden", mutate: func(c *Config) { c.Model.Hidden = []int{128, 0} },
			want: "model.hidden: each size must be >= 1, got [128, 0]"},
		{name: "batch size", mutate: func(c *Config) { c.Train.BatchSize = 0 },
			want: "train.batch_size: must be >= 1, got 0"},
		{name: "threads", mutate: func(c *Config) { c.Train.Threads = -1 },
			want: "train.threads: must be >= 0, got -1"},
		{name: "shards", mutate: func(c *Config) { c.Train.Shards = 0 },
			want: "train.shards: must be >= 1, got 0"},
		{name: "empty name", mutate: func(c *Config) { c.Name = "" },
			want: `name: must be a non-empty name without path separators, "." or "..", got ""`},
		{name: "dotdot name", mutate: func(c *Config) { c.Name = ".." },
			want: `name: must be a non-empty name without path separators, "." or "..", got ".."`},
		{name: "empty output dir", mutate: func(c *Config) { c.Output.Dir = "" },
			want: `output.dir: must not be empty, got ""`},
		{name: "every violation in schema order", mutate: func(c *Config) { c.Train.Epochs = 0; c.Model.Classes = 1 },
			want: "model.classes: must be 0 or >= 2, got 1\ntrain.epochs: must be >= 1, got 0"},
		{name: "crop padding", mutate: func(c *Config) { c.Data.Augment.CropPadding = -1 },
			want: "data.augment.crop_padding: must be >= 0, got -1"},
		{name: "crop padding 0 valid", mutate: func(c *Config) { c.Data.Augment.Crop = true; c.Data.Augment.CropPadding = 0 }},
		{name: "scale valid", mutate: func(c *Config) { c.Data.Augment.Scale = []float64{0.08, 1} }},
		{name: "scale min = max valid", mutate: func(c *Config) { c.Data.Augment.Scale = []float64{0.5, 0.5} }},
		{name: "nil scale valid", mutate: func(c *Config) { c.Data.Augment.Scale = nil }},
		{name: "scale one value", mutate: func(c *Config) { c.Data.Augment.Scale = []float64{0.5} },
			want: "data.augment.scale: must be empty or [min, max] with 0 < min <= max <= 1, got [0.5]"},
		{name: "scale three values", mutate: func(c *Config) { c.Data.Augment.Scale = []float64{0.1, 0.2, 0.3} },
			want: "data.augment.scale: must be empty or [min, max] with 0 < min <= max <= 1, got [0.1, 0.2, 0.3]"},
		{name: "scale zero min", mutate: func(c *Config) { c.Data.Augment.Scale = []float64{0, 1} },
			want: "data.augment.scale: must be empty or [min, max] with 0 < min <= max <= 1, got [0, 1]"},
		{name: "scale reversed", mutate: func(c *Config) { c.Data.Augment.Scale = []float64{0.9, 0.1} },
			want: "data.augment.scale: must be empty or [min, max] with 0 < min <= max <= 1, got [0.9, 0.1]"},
		{name: "scale above 1", mutate: func(c *Config) { c.Data.Augment.Scale = []float64{0.5, 1.01} },
			want: "data.augment.scale: must be empty or [min, max] with 0 < min <= max <= 1, got [0.5, 1.01]"},
		{name: "ratio above 1 valid", mutate: func(c *Config) { c.Data.Augment.Ratio = []float64{1, 3} }},
		{name: "ratio empty", mutate: func(c *Config) { c.Data.Augment.Ratio = []float64{} },
			want: "data.augment.ratio: must be [min, max] with 0 < min <= max, got []"},
		{name: "ratio negative", mutate: func(c *Config) { c.Data.Augment.Ratio = []float64{-1, 1} },
			want: "data.augment.ratio: must be [min, max] with 0 < min <= max, got [-1, 1]"},
		{name: "ratio reversed", mutate: func(c *Config) { c.Data.Augment.Ratio = []float64{2, 1} },
			want: "data.augment.ratio: must be [min, max] with 0 < min <= max, got [2, 1]"},
		{name: "workers", mutate: func(c *Config) { c.Data.Workers = -2 },
			want: "data.workers: must be >= 0, got -2"},
		{name: "dropout one value for all layers", mutate: func(c *Config) { c.Model.Dropout = []float64{0.5} }},
		{name: "dropout per layer", mutate: func(c *Config) { c.Model.Dropout = []float64{0, 0.1, 0.2, 0.3} }},
		{name: "single dropout without hidden layers", mutate: func(c *Config) { c.Model.Hidden = nil; c.Model.Dropout = []float64{0.5} }},
		{name: "dropout 1", mutate: func(c *Config) { c.Model.Dropout = []float64{1} },
			want: "model.dropout: each value must be >= 0 and < 1, got [1]"},
		{name: "dropout negative", mutate: func(c *Config) { c.Model.Dropout = []float64{0.1, -0.1, 0, 0} },
			want: "model.dropout: each value must be >= 0 and < 1, got [0.1, -0.1, 0, 0]"},
		{name: "dropout length", mutate: func(c *Config) { c.Model.Dropout = []float64{0.1, 0.2, 0.3} },
			want: "model.dropout: has 3 values but model.hidden has 4 layers"},
		{name: "dropout range before length", mutate: func(c *Config) { c.Model.Dropout = []float64{0.1, 2} },
			want: "model.dropout: each value must be >= 0 and < 1, got [0.1, 2]"},
		{name: "hidden checked before dropout", mutate: func(c *Config) { c.Model.Hidden = []int{0}; c.Model.Dropout = []float64{0.1, 0.2} },
			want: "model.hidden: each size must be >= 1, got [0]"},
		{name: "bn momentum 1 valid", mutate: func(c *Config) { c.Model.BNMomentum = 1 }},
		{name: "bn momentum 0", mutate: func(c *Config) { c.Model.BNMomentum = 0 },
			want: "model.bn_momentum: must be > 0 and <= 1, got 0"},
		{name: "bn momentum above 1", mutate: func(c *Config) { c.Model.BNMomentum = 1.5 },
			want: "model.bn_momentum: must be > 0 and <= 1, got 1.5"},
		{name: "bn eps", mutate: func(c *Config) { c.Model.BNEps = 0 },
			want: "model.bn_eps: must be > 0, got 0"},
		{name: "adamw valid", mutate: func(c *Config) { c.Train.Optimizer.Name = "adamw"; c.Train.Optimizer.WeightDecay = 0.01 }},
		{name: "nesterov with momentum valid", mutate: func(c *Config) { c.Train.Optimizer.Name = "sgd"; c.Train.Optimizer.Nesterov = true }},
		{name: "no momentum without nesterov valid", mutate: func(c *Config) { c.Train.Optimizer.Momentum = 0 }},
		{name: "nesterov without momentum", mutate: func(c *Config) { c.Train.Optimizer.Nesterov = true; c.Train.Optimizer.Momentum = 0 },
			want: "train.optimizer.nesterov: true requires train.optimizer.momentum > 0, but it is 0"},
		{name: "no validation split, no early stopping or plateau valid", mutate: func(c *Config) { c.Data.ValSplit = 0; c.Train.Schedule.Name = "cosine" }},
		{name: "restore_best alone needs no validation split", mutate: func(c *Config) { c.Data.ValSplit = 0; c.Train.EarlyStopping.RestoreBest = true }},
		{name: "plateau without validation", mutate: func(c *Config) { c.Data.ValSplit = 0; c.Train.Schedule.Name = "plateau" },
			want: "train.schedule.name: plateau watches train.schedule.monitor (val_loss), which needs data.val_split > 0, but it is 0"},
		{name: "grad clip", mutate: func(c *Config) { c.Train.GradClip = -1 },
			want: "train.grad_clip: must be >= 0, got -1"},
		{name: "label smoothing 1", mutate: func(c *Config) { c.Train.LabelSmoothing = 1 },
			want: "train.label_smoothing: must be >= 0 and < 1, got 1"},
		{name: "label smoothing valid", mutate: func(c *Config) { c.Train.LabelSmoothing = 0.1 }},
		{name: "checkpoint every", mutate: func(c *Config) { c.Train.CheckpointEvery = -1 },
			want: "train.checkpoint_every: must be >= 0, got -1"},
		{name: "schedule name", mutate: func(c *Config) { c.Train.Schedule.Name = "exp" },
			want: `train.schedule.name: must be one of constant, step, cosine, one_cycle, plateau, got "exp"`},
		{name: "warmup", mutate: func(c *Config) { c.Train.Schedule.WarmupEpochs = -0.5 },
			want: "train.schedule.warmup_epochs: must be >= 0, got -0.5"},
		{name: "min lr", mutate: func(c *Config) { c.Train.Schedule.MinLR = -1e-6 },
			want: "train.schedule.min_lr: must be >= 0, got -1e-06"},
		{name: "step epochs", mutate: func(c *Config) { c.Train.Schedule.StepEpochs = 0 },
			want: "train.schedule.step_epochs: must be >= 1, got 0"},
		{name: "gamma 1 valid", mutate: func(c *Config) { c.Train.Schedule.Gamma = 1 }},
		{name: "gamma 0", mutate: func(c *Config) { c.Train.Schedule.Gamma = 0 },
			want: "train.schedule.gamma: must be > 0 and <= 1, got 0"},
		{name: "pct start 1", mutate: func(c *Config) { c.Train.Schedule.PctStart = 1 },
			want: "train.schedule.pct_start: must be > 0 and < 1, got 1"},
		{name: "pct start 0", mutate: func(c *Config) { c.Train.Schedule.PctStart = 0 },
			want: "train.schedule.pct_start: must be > 0 and < 1, got 0"},
		{name: "div factor", mutate: func(c *Config) { c.Train.Schedule.DivFactor = 0.5 },
			want: "train.schedule.div_factor: must be >= 1, got 0.5"},
		{name: "final div factor", mutate: func(c *Config) { c.Train.Schedule.FinalDivFactor = 0 },
			want: "train.schedule.final_div_factor: must be >= 1, got 0"},
		{name: "factor 1", mutate: func(c *Config) { c.Train.Schedule.Factor = 1 },
			want: "train.schedule.factor: must be > 0 and < 1, got 1"},
		{name: "schedule patience", mutate: func(c *Config) { c.Train.Schedule.Patience = -1 },
			want: "train.schedule.patience: must be >= 0, got -1"},
		{name: "schedule patience 0 valid", mutate: func(c *Config) { c.Train.Schedule.Patience = 0 }},
		{name: "threshold", mutate: func(c *Config) { c.Train.Schedule.Threshold = -1 },
			want: "train.schedule.threshold: must be >= 0, got -1"},
		{name: "schedule monitor", mutate: func(c *Config) { c.Train.Schedule.Monitor = "loss" },
			want: `train.schedule.monitor: must be one of val_loss, val_acc, got "loss"`},
		{name: "early stopping monitor", mutate: func(c *Config) { c.Train.EarlyStopping.Monitor = "acc" },
			want: `train.early_stopping.monitor: must be one of val_loss, val_acc, got "acc"`},
		{name: "early stopping patience", mutate: func(c *Config) { c.Train.EarlyStopping.Patience = 0 },
			want: "train.early_stopping.patience: must be >= 1, got 0"},
		{name: "min delta", mutate: func(c *Config) { c.Train.EarlyStopping.MinDelta = -0.01 },
			want: "train.early_stopping.min_delta: must be >= 0, got -0.01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key == "" {
				t.Fatalf("Validate() error %#v is not a *config.Error with a key", err)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "missing letter", path: "train.epoch", want: "train.epochs"},
		{name: "extra letter nested", path: "train.optimizer.lrr", want: "train.optimizer.lr"},
		{name: "transposed section", path: "trian", want: "train"},
		{name: "upper case", path: "Model.Hidden", want: "model.hidden"},
		{name: "typo in section of leaf", path: "modle.hidden", want: "model.hidden"},
		{name: "leaf under wrong section", path: "model.epochs", want: "train.epochs"},
		{name: "section at wrong level", path: "optimizer", want: "train.optimizer"},
		{name: "hyphen for underscore", path: "train.batch-size", want: "train.batch_size"},
		{name: "far off", path: "colour", want: ""},
		{name: "transposed leaf", path: "train.optimizer.nmae", want: "train.optimizer.name"},
		{name: "short and far", path: "xy", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := suggest(tt.path); got != tt.want {
				t.Fatalf("suggest(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// leafPaths lists the dotted mapstructure paths of every leaf field of t.
func leafPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		p := f.Tag.Get("mapstructure")
		if prefix != "" {
			p = prefix + "." + p
		}
		if f.Type.Kind() == reflect.Struct {
			out = append(out, leafPaths(f.Type, p)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

func TestKeysTableMatchesConfig(t *testing.T) {
	leaves := leafPaths(reflect.TypeOf(Config{}), "")
	var tableKeys []string
	for _, s := range keys {
		tableKeys = append(tableKeys, s.key)
	}
	if !reflect.DeepEqual(leaves, tableKeys) {
		t.Fatalf("Config leaf fields (in order) %v\n differ from keys table %v", leaves, tableKeys)
	}
	var walk func(t2 reflect.Type)
	walk = func(t2 reflect.Type) {
		for i := 0; i < t2.NumField(); i++ {
			f := t2.Field(i)
			if ms, y := f.Tag.Get("mapstructure"), f.Tag.Get("yaml"); ms != y || ms == "" {
				t.Errorf("%s.%s: mapstructure tag %q != yaml tag %q", t2.Name(), f.Name, ms, y)
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(Config{}))
	for _, s := range keys {
		var c Config
		if err := setField(&c, s.key, cloneValue(s.def)); err != nil {
			t.Errorf("default of %s does not fit its field: %v", s.key, err)
		}
		if s.doc == "" {
			t.Errorf("key %s has no doc", s.key)
		}
	}
}

func TestReference(t *testing.T) {
	ref := Reference()
	leaves := leafPaths(reflect.TypeOf(Config{}), "")
	if len(ref) != len(leaves) {
		t.Fatalf("Reference() has %d keys, Config has %d leaves", len(ref), len(leaves))
	}
	for i, kd := range ref {
		if kd.Key != leaves[i] {
			t.Errorf("Reference()[%d].Key = %q, want %q", i, kd.Key, leaves[i])
		}
		if kd.Type == "" || kd.Doc == "" || kd.Default == "" {
			t.Errorf("Reference()[%d] = %+v has an empty field", i, kd)
		}
		// Every default parses back as a --set value to the default itself.
		c, err := Load(LoadOptions{Sets: []string{kd.Key + "=" + kd.Default}})
		if err != nil {
			t.Errorf("--set %s=%s: %v", kd.Key, kd.Default, err)
			continue
		}
		if !reflect.DeepEqual(*c, Default()) {
			t.Errorf("--set %s=%s changed the config: %+v", kd.Key, kd.Default, *c)
		}
	}
	tests := []struct {
		name string
		want KeyDoc
	}{
		{name: "batch size", want: KeyDoc{Key: "train.batch_size", Type: "int", Default: "128",
			Doc: "Mini-batch size; must be >= 1.", Env: "LEPTON_TRAIN_BATCH_SIZE"}},
		{name: "hidden", want: KeyDoc{Key: "model.hidden", Type: "list of int", Default: "[128, 64, 32, 16]",
			Doc: "Hidden layer sizes from input to output; may be empty; each size must be >= 1.", Env: "LEPTON_MODEL_HIDDEN"}},
		{name: "data dir has no env", want: KeyDoc{Key: "data.dir", Type: "string", Default: `""`,
			Doc: "Data directory (or archive); empty means resolve it from --data, LEPTON_DATA_DIR or the cache (folders need one).", Env: ""}},
		{name: "eps", want: KeyDoc{Key: "train.optimizer.eps", Type: "float", Default: "1e-08",
			Doc: "Adam numerical-stability epsilon; must be > 0.", Env: "LEPTON_TRAIN_OPTIMIZER_EPS"}},
		{name: "activation", want: KeyDoc{Key: "model.activation", Type: "string", Default: "relu",
			Doc: "Hidden layer activation; must be one of relu, tanh, sigmoid, leaky_relu.", Env: "LEPTON_MODEL_ACTIVATION"}},
		{name: "bool", want: KeyDoc{Key: "train.early_stopping.restore_best", Type: "bool", Default: "true",
			Doc: "Make the best epoch's weights (checkpoints/best) the final model that report.json tests; false: the last epoch's.", Env: "LEPTON_TRAIN_EARLY_STOPPING_RESTORE_BEST"}},
		{name: "float list", want: KeyDoc{Key: "data.augment.ratio", Type: "list of float", Default: "[0.75, 1.3333333333333333]",
			Doc: "Aspect-ratio range [min, max] of the random resized crop; must be [min, max] with 0 < min <= max.", Env: "LEPTON_DATA_AUGMENT_RATIO"}},
		{name: "cross-key rule documented", want: KeyDoc{Key: "model.dropout", Type: "list of float", Default: "[]",
			Doc: "Dropout probability per hidden layer, or one value for all hidden layers; empty means none; each value must be >= 0 and < 1; must have 0, 1 or len(model.hidden) values.",
			Env: "LEPTON_MODEL_DROPOUT"}},
		{name: "float default", want: KeyDoc{Key: "train.schedule.final_div_factor", Type: "float", Default: "10000",
			Doc: "Final learning rate is the initial one/final_div_factor (one_cycle); must be >= 1.", Env: "LEPTON_TRAIN_SCHEDULE_FINAL_DIV_FACTOR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kd := range ref {
				if kd.Key == tt.want.Key {
					if kd != tt.want {
						t.Fatalf("got %+v, want %+v", kd, tt.want)
					}
					return
				}
			}
			t.Fatalf("key %s missing from Reference()", tt.want.Key)
		})
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		sets []string
	}{
		{name: "defaults"},
		{name: "sgd with empty hidden", sets: []string{"model.hidden=[]", "train.optimizer.name=sgd", "train.optimizer.weight_decay=5e-4"}},
		{name: "awkward strings", sets: []string{"name=yes", "data.dir=/tmp/a b: c", "output.dir=0x10"}},
		{name: "extremes", sets: []string{"seed=18446744073709551615", "train.optimizer.lr=1e-300", "data.val_split=0.30000000000000004", "train.optimizer.eps=2"}},
		{name: "new kinds", sets: []string{
			"data.augment.flip=1", "data.augment.scale=0.08,1", "data.augment.ratio=[0.1, 1e10]",
			"model.dropout=[0, 0.1, 0.30000000000000004, 0.5]", "model.batch_norm=true",
			"train.optimizer.name=sgd", "train.optimizer.nesterov=true", "train.early_stopping.restore_best=false",
			"train.schedule.name=one_cycle", "train.schedule.threshold=1e-300",
		}},
		{name: "empty lists", sets: []string{"model.hidden=", "model.dropout=", "data.augment.scale="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{Sets: tt.sets})
			if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			out, err := cfg.YAML()
			if err != nil {
				t.Fatalf("YAML() = %v", err)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(YAML()) = %v\n%s", err, out)
			}
			if !reflect.DeepEqual(back, cfg) {
				t.Fatalf("round trip changed config:\n got %+v\nwant %+v\nyaml:\n%s", back, cfg, out)
			}
		})
	}
}

func TestYAMLSchemaOrder(t *testing.T) {
	c := Default()
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	pos := -1
	for _, kd := range Reference() {
		parts := strings.Split(kd.Key, ".")
		leaf := strings.Repeat("  ", len(parts)-1) + parts[len(parts)-1] + ":"
		i := strings.Index(text[pos+1:], leaf)
		if i < 0 {
			t.Fatalf("key %s not found after offset %d in\n%s", kd.Key, pos, text)
		}
		pos += 1 + i
	}
	if !strings.Contains(text, "hidden: [128, 64, 32, 16]\n") {
		t.Fatalf("hidden not in flow style:\n%s", text)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    func() Config
		wantErr string
	}{
		{name: "missing keys take defaults", yaml: "name: run1\ntrain:\n  epochs: 2\n",
			want: func() Config { c := Default(); c.Name = "run1"; c.Train.Epochs = 2; return c }},
		{name: "empty document", yaml: "",
			want: Default},
		{name: "unknown key", yaml: "train:\n  epochs: 2\n  colour: blue\n",
			wantErr: "train.colour: unknown key"},
		{name: "known leaf in wrong section", yaml: "train:\n  epochs: 2\n  dropout: 0.5\n",
			wantErr: "train.dropout: unknown key (did you mean model.dropout?)"},
		{name: "unknown key with suggestion", yaml: "model:\n  hiden: [1]\n",
			wantErr: "model.hiden: unknown key (did you mean model.hidden?)"},
		{name: "wrong type", yaml: "seed: abc\n",
			wantErr: `seed: want a non-negative integer, got "abc"`},
		{name: "invalid value", yaml: "train:\n  epochs: 0\n",
			wantErr: "train.epochs: must be >= 1, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Parse() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			if want := tt.want(); !reflect.DeepEqual(*got, want) {
				t.Fatalf("Parse() = %+v, want %+v", *got, want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	inner := errors.New("boom")
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "all parts", err: &Error{File: "f.yaml", Key: "seed", Value: "1", Msg: "bad", Err: inner},
			want: "f.yaml: seed: bad, got 1: boom"},
		{name: "set spells key", err: &Error{File: "--set seed=x", Key: "seed", Msg: "bad"},
			want: "--set seed=x: bad"},
		{name: "set of other key", err: &Error{File: "--set seeds=x", Key: "seed", Msg: "bad"},
			want: "--set seeds=x: seed: bad"},
		{name: "newlines flattened", err: &Error{Key: "a\nb", Msg: "bad"},
			want: "a b: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(&Error{Err: inner}, inner) {
		t.Fatal("Error does not unwrap to Err")
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{name: "equal", a: "seed", b: "seed", want: 0},
		{name: "empty", a: "", b: "abc", want: 3},
		{name: "insert", a: "epoch", b: "epochs", want: 1},
		{name: "substitute", a: "lr", b: "lx", want: 1},
		{name: "transpose", a: "trian", b: "train", want: 1},
		{name: "unrelated", a: "abc", b: "xyz", want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := editDistance(tt.a, tt.b); got != tt.want {
				t.Fatalf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
