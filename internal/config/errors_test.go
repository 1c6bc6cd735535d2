package config

import (
	"errors"
	"strings"
	"testing"
)

// TestLoadReportsEveryMistake checks that a config with several mistakes
// reports all of them, the file's with their lines and in line order, then
// those of the environment and the sets.
func TestLoadReportsEveryMistake(t *testing.T) {
	inDir(t, map[string]string{"configs/x.yaml": `name: demo
train:
  epoch: 3
  batch_size: ten
  optimizer:
    lr: -1
model:
  activation: gelu
seed: 1
seed: 2
`})
	_, err := Load(LoadOptions{File: "configs/x.yaml", Env: []string{"LEPTON_TRAIN_EPOCHS=many"}, Sets: []string{"model.hiden=3", "data.val_split=2"}})
	want := []string{
		"configs/x.yaml:3: train.epoch: unknown key (did you mean train.epochs?)",
		`configs/x.yaml:4: train.batch_size: want an integer, got "ten"`,
		"configs/x.yaml:6: train.optimizer.lr: must be > 0, got -1",
		`configs/x.yaml:8: model.activation: must be one of relu, tanh, sigmoid, leaky_relu, got "gelu"`,
		"configs/x.yaml:10: seed: duplicate key",
		`LEPTON_TRAIN_EPOCHS=many: train.epochs: want an integer, got "many"`,
		"--set model.hiden=3: unknown key (did you mean model.hidden?)",
		"--set data.val_split=2: must be >= 0 and < 1, got 2",
	}
	if err == nil {
		t.Fatal("Load succeeded")
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Load error lines:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	var list Errors
	if !errors.As(err, &list) || len(list) != len(want) {
		t.Errorf("Load error is not Errors of %d: %T %v", len(want), err, err)
	}
	var first *Error
	if !errors.As(err, &first) || first.Line != 3 || first.Key != "train.epoch" {
		t.Errorf("errors.As(*Error) = %+v, want the first mistake", first)
	}
}

// TestOneMistakeIsOneError keeps a single mistake a plain *Error.
func TestOneMistakeIsOneError(t *testing.T) {
	inDir(t, map[string]string{"configs/x.yaml": "train:\n  epochs: 0\n"})
	_, err := Load(LoadOptions{File: "configs/x.yaml"})
	if _, ok := err.(*Error); !ok || err.Error() != "configs/x.yaml:2: train.epochs: must be >= 1, got 0" {
		t.Errorf("Load error %T %v", err, err)
	}
}
