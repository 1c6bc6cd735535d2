package schedule

import (
	"encoding/json"
	"fmt"
	"math"
)

// plateau is torch.optim.lr_scheduler.ReduceLROnPlateau with threshold_mode
// "rel", no cooldown and eps 1e-8: after more than Patience epochs in a row
// without a relative improvement of Threshold, the rate is multiplied by
// Factor, but not below MinLR.
type plateau struct {
	maxMode   bool
	factor    float64
	patience  int
	threshold float64
	minLR     float64
	warmup    warmup
	st        plateauState
}

// plateauState is plateau's mutable state. Best is meaningful only when
// HasBest is set (JSON cannot hold the infinite initial best).
type plateauState struct {
	Name      string  `json:"name"`
	LR        float64 `json:"lr"`
	Best      float64 `json:"best"`
	HasBest   bool    `json:"has_best"`
	NumBad    int     `json:"num_bad_epochs"`
	LastEpoch int     `json:"last_epoch"` // last epoch observed, 0 if none
}

// plateauEps is ReduceLROnPlateau's eps: reductions smaller than it are
// skipped.
const plateauEps = 1e-8

func newPlateau(s Settings, baseLR float64, w warmup) (*plateau, error) {
	if s.Mode != "max" && s.Mode != "min" {
		return nil, fmt.Errorf("schedule plateau: mode must be max or min, got %q", s.Mode)
	}
	factor := orDefault(s.Factor, 0.1)
	if factor >= 1 {
		return nil, fmt.Errorf("schedule plateau: factor must be in (0, 1), got %v", factor)
	}
	if s.MinLR > baseLR {
		return nil, fmt.Errorf("schedule plateau: min_lr %v is above the learning rate %v", s.MinLR, baseLR)
	}
	return &plateau{
		maxMode: s.Mode == "max", factor: factor, patience: s.Patience,
		threshold: s.Threshold, minLR: s.MinLR, warmup: w,
		st: plateauState{Name: Plateau, LR: baseLR},
	}, nil
}

func (p *plateau) LR(step int64) float64 {
	return p.st.LR * p.warmup.scale(max(step, 0))
}

// EpochEnd records metric. An epoch at or before the last one observed is
// ignored, so that replaying an epoch after a resume does not count twice. A
// non-finite metric (NaN, ±Inf) never improves.
func (p *plateau) EpochEnd(epoch int, metric float64) {
	if p.st.LastEpoch != 0 && epoch <= p.st.LastEpoch {
		return
	}
	p.st.LastEpoch = epoch
	if p.better(metric) {
		p.st.Best, p.st.HasBest, p.st.NumBad = metric, true, 0
	} else {
		p.st.NumBad++
	}
	if p.st.NumBad > p.patience {
		if lr := max(p.st.LR*p.factor, p.minLR); p.st.LR-lr > plateauEps {
			p.st.LR = lr
		}
		p.st.NumBad = 0
	}
}

func (p *plateau) better(m float64) bool {
	if math.IsNaN(m) || math.IsInf(m, 0) {
		return false
	}
	if !p.st.HasBest {
		return true
	}
	if p.maxMode {
		return m > p.st.Best*(1+p.threshold)
	}
	return m < p.st.Best*(1-p.threshold)
}

func (p *plateau) State() json.RawMessage {
	return mustMarshal(p.st)
}

func (p *plateau) SetState(raw json.RawMessage) error {
	var st plateauState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("schedule plateau: bad state: %w", err)
	}
	if st.Name != Plateau {
		return fmt.Errorf("schedule state is for %q, not plateau", st.Name)
	}
	if !(st.LR > 0) || st.NumBad < 0 || st.LastEpoch < 0 {
		return fmt.Errorf("schedule plateau: bad state (lr %v, num_bad_epochs %d, last_epoch %d)", st.LR, st.NumBad, st.LastEpoch)
	}
	p.st = st
	return nil
}
