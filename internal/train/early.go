package train

import (
	"math"

	"github.com/lepton-cli/lepton/internal/config"
)

// EarlyStopping ends training when the monitored metric has not improved
// by more than MinDelta for Patience epochs, as Keras' EarlyStopping does.
// Its fields are exported so that checkpoints carry its state.
type EarlyStopping struct {
	Monitor  string  `json:"monitor"` // val_acc (higher is better) or val_loss (lower is better)
	Patience int     `json:"patience"`
	MinDelta float64 `json:"min_delta"`

	Best float64 `json:"best"`
	Seen bool    `json:"seen"` // Best holds an observed value
	Bad  int     `json:"bad"`  // epochs since the last improvement
}

// Observe records one epoch's value of the monitored metric and reports
// whether training should stop.
func (e *EarlyStopping) Observe(v float64) bool {
	if math.IsNaN(v) {
		e.Bad++
		return e.Bad >= e.Patience
	}
	better := !e.Seen
	if e.Seen {
		if config.MonitorMode(e.Monitor) == "min" {
			better = v < e.Best-e.MinDelta
		} else {
			better = v > e.Best+e.MinDelta
		}
	}
	if better {
		e.Best, e.Seen, e.Bad = v, true, 0
		return false
	}
	e.Bad++
	return e.Bad >= e.Patience
}
