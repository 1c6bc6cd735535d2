package run

// The data a run trains, validates and tests on.

import (
	"context"
	"fmt"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
)

// splits are the data a run trains, validates and tests on.
type splits struct {
	train, val, test *data.Dataset
	classes          []string
	src              data.Source
}

// openData opens the data set the config names at opts.DataDir and fits a
// copy of the config to it (opts.Config then points to the copy).
func openData(opts *Options) (data.Source, error) {
	cfg := *opts.Config
	spec := cfg.DataSpec()
	spec.Dir, spec.CacheDir, spec.Log = opts.DataDir, opts.DataCache, opts.Stderr
	if !opts.Quiet {
		spec.Progress = opts.Stderr
	}
	src, err := data.Open(spec)
	if err != nil {
		return nil, err
	}
	if err := cfg.FitData(opts.DataDir, src.Geometry(), len(src.Classes())); err != nil {
		return nil, err
	}
	opts.Config = &cfg
	return src, nil
}

// loadSplits reads the training and test sets and splits validation off
// the training set, stratified and seeded.
func loadSplits(ctx context.Context, cfg *config.Config, src data.Source) (*splits, error) {
	sp, err := data.Load(ctx, src, cfg.Data.ValSplit, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if sp.Val.Len() == 0 && (cfg.Train.EarlyStopping.Enabled || cfg.Train.Schedule.Name == "plateau") {
		return nil, &config.Error{Key: "data.val_split", Value: fmt.Sprint(cfg.Data.ValSplit),
			Msg: fmt.Sprintf("leaves no validation image of %d, but early stopping or the plateau schedule watches a validation metric", sp.Train.Len())}
	}
	return &splits{train: sp.Train, val: sp.Val, test: sp.Test, classes: src.Classes(), src: src}, nil
}
