// Package schedule computes learning-rate schedules: the learning rate for
// every optimizer step of a training run, with the semantics of PyTorch's
// torch.optim.lr_scheduler (StepLR, cosine annealing with linear warmup,
// OneCycleLR and ReduceLROnPlateau).
//
// A Schedule is a pure function of the global step, except "plateau", whose
// rate depends on the metrics it observed at the ends of epochs. Every
// schedule exports its state as JSON (State) and restores it (SetState), so a
// run resumed from a checkpoint continues with exactly the same rates.
package schedule

import (
	"encoding/json"
	"fmt"
	"math"
)

// Schedule names accepted by New.
const (
	Constant = "constant"
	Step     = "step"
	Cosine   = "cosine"
	OneCycle = "one_cycle"
	Plateau  = "plateau"
)

// Settings configure a schedule. Fields that a schedule does not use are
// ignored by it. A zero value for a field documented with a default means
// that default.
type Settings struct {
	// Name is one of constant, step, cosine, one_cycle or plateau. Empty
	// means constant.
	Name string `json:"name"`
	// WarmupEpochs is the length of a linear warmup in epochs (it may be
	// fractional), rounded to whole steps: during the first W steps the rate
	// is multiplied by (step+1)/W, so it rises from about 0 to the
	// schedule's rate. Used by constant, step, cosine and plateau; one_cycle
	// has its own warmup (PctStart) and rejects it.
	WarmupEpochs float64 `json:"warmup_epochs"`
	// MinLR is the final rate of cosine and the floor of plateau's
	// reductions.
	MinLR float64 `json:"min_lr"`
	// StepEpochs is step's period: the rate is multiplied by Gamma every
	// StepEpochs epochs. Required (>= 1) by step.
	StepEpochs int `json:"step_epochs"`
	// Gamma is step's decay factor, in (0, 1]. Default 0.1.
	Gamma float64 `json:"gamma"`
	// MaxLR is one_cycle's peak rate. Default: the base rate given to New.
	MaxLR float64 `json:"max_lr"`
	// PctStart is the fraction of one_cycle's steps spent increasing the
	// rate, in (0, 1). Default 0.3.
	PctStart float64 `json:"pct_start"`
	// DivFactor sets one_cycle's initial rate, MaxLR/DivFactor. Default 25.
	DivFactor float64 `json:"div_factor"`
	// FinalDivFactor sets one_cycle's final rate,
	// MaxLR/DivFactor/FinalDivFactor. Default 1e4.
	FinalDivFactor float64 `json:"final_div_factor"`
	// Factor multiplies plateau's rate at each reduction, in (0, 1).
	// Default 0.1.
	Factor float64 `json:"factor"`
	// Patience is the number of epochs without improvement that plateau
	// tolerates; the rate is reduced after Patience+1 such epochs in a row
	// (0 reduces after the first epoch that does not improve).
	Patience int `json:"patience"`
	// Threshold is plateau's relative improvement threshold: in max mode a
	// metric improves on the best one if it is above best*(1+Threshold), in
	// min mode if it is below best*(1-Threshold). 0 counts any strict
	// improvement.
	Threshold float64 `json:"threshold"`
	// Mode is "max" (for example validation accuracy) or "min" (for example
	// validation loss) for plateau. Required by plateau.
	Mode string `json:"mode"`
}

// Schedule gives the learning rate of every optimizer step.
type Schedule interface {
	// LR returns the rate for the 0-based global step. Steps past the end of
	// the run keep the final rate; negative steps count as step 0.
	LR(step int64) float64
	// EpochEnd observes the monitored metric at the end of the 1-based
	// epoch. Only plateau uses it; the other schedules ignore it.
	EpochEnd(epoch int, metric float64)
	// State returns the schedule's state as JSON, for a checkpoint.
	State() json.RawMessage
	// SetState restores a state returned by State of a schedule with the
	// same name. It fails, leaving the schedule unchanged, if the state is
	// malformed or belongs to another kind of schedule.
	SetState(json.RawMessage) error
}

// New returns the schedule named by s for a run of epochs epochs of
// stepsPerEpoch optimizer steps each, with base rate baseLR. It fails on an
// unknown name and on settings out of range.
func New(s Settings, baseLR float64, stepsPerEpoch, epochs int) (Schedule, error) {
	if s.Name == "" {
		s.Name = Constant
	}
	if stepsPerEpoch < 1 || epochs < 1 {
		return nil, fmt.Errorf("schedule %s: need at least one step per epoch and one epoch (got %d and %d)", s.Name, stepsPerEpoch, epochs)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"learning rate", baseLR}, {"warmup_epochs", s.WarmupEpochs}, {"min_lr", s.MinLR},
		{"gamma", s.Gamma}, {"max_lr", s.MaxLR}, {"pct_start", s.PctStart},
		{"div_factor", s.DivFactor}, {"final_div_factor", s.FinalDivFactor},
		{"factor", s.Factor}, {"threshold", s.Threshold},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return nil, fmt.Errorf("schedule %s: %s must be a finite number >= 0, got %v", s.Name, f.name, f.v)
		}
	}
	if s.Patience < 0 {
		return nil, fmt.Errorf("schedule %s: patience must be >= 0, got %d", s.Name, s.Patience)
	}
	total := int64(stepsPerEpoch) * int64(epochs)
	w := warmup{steps: int64(math.Round(s.WarmupEpochs * float64(stepsPerEpoch)))}
	needBase := func() error {
		if baseLR <= 0 {
			return fmt.Errorf("schedule %s: learning rate must be > 0, got %v", s.Name, baseLR)
		}
		return nil
	}
	switch s.Name {
	case Constant:
		if err := needBase(); err != nil {
			return nil, err
		}
		return &stateless{name: Constant, warmup: w, f: func(int64) float64 { return baseLR }}, nil
	case Step:
		if err := needBase(); err != nil {
			return nil, err
		}
		if s.StepEpochs < 1 {
			return nil, fmt.Errorf("schedule step: step_epochs must be >= 1, got %d", s.StepEpochs)
		}
		gamma := orDefault(s.Gamma, 0.1)
		if gamma > 1 {
			return nil, fmt.Errorf("schedule step: gamma must be in (0, 1], got %v", gamma)
		}
		period := int64(s.StepEpochs) * int64(stepsPerEpoch)
		return &stateless{name: Step, warmup: w, f: func(step int64) float64 {
			return baseLR * math.Pow(gamma, float64(step/period))
		}}, nil
	case Cosine:
		if err := needBase(); err != nil {
			return nil, err
		}
		if s.MinLR > baseLR {
			return nil, fmt.Errorf("schedule cosine: min_lr %v is above the learning rate %v", s.MinLR, baseLR)
		}
		return &stateless{name: Cosine, warmup: w, f: cosine(baseLR, s.MinLR, w.steps, total-1)}, nil
	case OneCycle:
		if s.WarmupEpochs != 0 {
			return nil, fmt.Errorf("schedule one_cycle: warmup_epochs is not used (one_cycle warms up over pct_start), got %v", s.WarmupEpochs)
		}
		f, err := oneCycle(s, baseLR, total)
		if err != nil {
			return nil, err
		}
		return &stateless{name: OneCycle, f: f}, nil
	case Plateau:
		if err := needBase(); err != nil {
			return nil, err
		}
		return newPlateau(s, baseLR, w)
	}
	return nil, fmt.Errorf("unknown schedule %q (want constant, step, cosine, one_cycle or plateau)", s.Name)
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// warmup is a linear ramp over the first steps steps.
type warmup struct{ steps int64 }

// scale returns the warmup multiplier for step (1 after the warmup).
func (w warmup) scale(step int64) float64 {
	if step >= w.steps {
		return 1
	}
	return float64(step+1) / float64(w.steps)
}

// cosine returns a schedule that goes from base at step start to min at step
// last along a half cosine, and stays at min afterwards.
func cosine(base, minLR float64, start, last int64) func(int64) float64 {
	return func(step int64) float64 {
		if step <= start {
			return base
		}
		if step >= last {
			return minLR
		}
		p := float64(step-start) / float64(last-start)
		return minLR + (base-minLR)*(1+math.Cos(math.Pi*p))/2
	}
}

// oneCycle implements torch.optim.lr_scheduler.OneCycleLR with
// anneal_strategy "cos" and two phases: from MaxLR/DivFactor up to MaxLR
// until step PctStart*total-1, then down to MaxLR/DivFactor/FinalDivFactor at
// step total-1.
func oneCycle(s Settings, baseLR float64, total int64) (func(int64) float64, error) {
	maxLR := orDefault(s.MaxLR, baseLR)
	if maxLR <= 0 {
		return nil, fmt.Errorf("schedule one_cycle: max_lr (or the learning rate) must be > 0, got %v", maxLR)
	}
	pct := orDefault(s.PctStart, 0.3)
	if pct >= 1 {
		return nil, fmt.Errorf("schedule one_cycle: pct_start must be in (0, 1), got %v", pct)
	}
	initial := maxLR / orDefault(s.DivFactor, 25)
	final := initial / orDefault(s.FinalDivFactor, 1e4)
	peak := pct*float64(total) - 1
	last := float64(total - 1)
	anneal := func(from, to, p float64) float64 {
		return to + (from-to)/2*(math.Cos(math.Pi*p)+1)
	}
	return func(step int64) float64 {
		x := float64(step)
		if x <= peak {
			if peak <= 0 {
				return maxLR
			}
			return anneal(initial, maxLR, x/peak)
		}
		if x >= last {
			return final
		}
		return anneal(maxLR, final, (x-peak)/(last-peak))
	}, nil
}

// stateless is a schedule whose rate depends only on the step.
type stateless struct {
	name   string
	warmup warmup
	f      func(int64) float64
}

type statelessState struct {
	Name string `json:"name"`
}

func (s *stateless) LR(step int64) float64 {
	step = max(step, 0)
	return s.f(step) * s.warmup.scale(step)
}

func (s *stateless) EpochEnd(int, float64) {}

func (s *stateless) State() json.RawMessage {
	return mustMarshal(statelessState{Name: s.name})
}

func (s *stateless) SetState(raw json.RawMessage) error {
	var st statelessState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("schedule %s: bad state: %w", s.name, err)
	}
	if st.Name != s.name {
		return fmt.Errorf("schedule state is for %q, not %s", st.Name, s.name)
	}
	return nil
}

// mustMarshal encodes v, whose fields are all finite numbers, strings and
// booleans; an error would be a bug in this package.
func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("schedule: encode state: " + err.Error())
	}
	return b
}
