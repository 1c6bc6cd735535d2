package config

import (
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/optim"
	"github.com/lepton-cli/lepton/internal/schedule"
)

// Spec returns the network spec that the model section describes.
func (m Model) Spec() model.Spec {
	return model.Spec{
		Input:      m.Input,
		Hidden:     append([]int(nil), m.Hidden...),
		Classes:    m.Classes,
		Activation: m.Activation,
		LeakySlope: m.LeakySlope,
		Init:       m.Init,
		Dropout:    dropoutList(m.Dropout, len(m.Hidden)),
		BatchNorm:  m.BatchNorm,
		BNMomentum: m.BNMomentum,
		BNEps:      m.BNEps,
	}
}

// dropoutList expands the config's dropout (none, one value for every
// hidden layer, or one per layer) to one probability per hidden layer.
func dropoutList(p []float64, layers int) []float64 {
	switch {
	case len(p) == 0 || layers == 0:
		return nil
	case len(p) == 1:
		out := make([]float64, layers)
		for i := range out {
			out[i] = p[0]
		}
		return out
	}
	return append([]float64(nil), p...)
}

// Settings returns the optimizer settings of the section. noDecay marks
// the parameters exempt from weight decay (biases and batch-norm
// parameters, from model.Params.NoDecay); it is ignored when DecayBias is
// set.
func (o Optimizer) Settings(noDecay []bool) optim.Settings {
	if o.DecayBias {
		noDecay = nil
	}
	return optim.Settings{
		Name: o.Name, Momentum: o.Momentum, Nesterov: o.Nesterov, Beta1: o.Beta1, Beta2: o.Beta2,
		Eps: o.Eps, WeightDecay: o.WeightDecay, NoDecay: noDecay,
	}
}

// Settings returns the learning-rate schedule settings of the section.
func (s Schedule) Settings() schedule.Settings {
	return schedule.Settings{
		Name: s.Name, WarmupEpochs: s.WarmupEpochs, MinLR: s.MinLR, StepEpochs: s.StepEpochs, Gamma: s.Gamma,
		PctStart: s.PctStart, DivFactor: s.DivFactor, FinalDivFactor: s.FinalDivFactor,
		Factor: s.Factor, Patience: s.Patience, Threshold: s.Threshold, Mode: MonitorMode(s.Monitor),
	}
}

// MonitorMode says whether a monitored metric improves upwards ("max") or
// downwards ("min").
func MonitorMode(monitor string) string {
	if monitor == "val_loss" {
		return "min"
	}
	return "max"
}

// Settings returns the augmentation settings of the section.
func (a Augment) Settings() data.Augment {
	aug := data.Augment{Flip: a.Flip}
	if a.Crop {
		aug.Pad = a.CropPadding
	}
	if len(a.Scale) == 2 {
		aug.Scale = [2]float64{a.Scale[0], a.Scale[1]}
	}
	if len(a.Ratio) == 2 {
		aug.Ratio = [2]float64{a.Ratio[0], a.Ratio[1]}
	}
	return aug
}
