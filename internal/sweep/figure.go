package sweep

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/lepton-cli/lepton/internal/plot"
)

// Plot draws dir/sweep.png from ranked results: the sweep's metric against
// each swept parameter, the best trial ringed. It returns the figure's
// path; with no trial holding the metric yet nothing is drawn and the
// error wraps plot.ErrNoData.
func Plot(dir string, f *File, results []Result) (string, error) {
	path := filepath.Join(dir, PlotFile)
	// Trial order, so that categories appear as the sweep file lists them.
	results = slices.Clone(results)
	slices.SortFunc(results, func(a, b Result) int { return cmp.Compare(a.Trial, b.Trial) })
	fig := plot.SweepFigure{Metric: f.Metric, Metrics: make([]float64, len(results)), Best: -1}
	for i, r := range results {
		fig.Metrics[i] = math.NaN()
		if m := r.Metric(f.Metric); m != nil {
			fig.Metrics[i] = *m
		}
		if r.Rank == 1 {
			fig.Best, fig.BestName = i, fmt.Sprintf("trial %03d", r.Trial)
		}
	}
	for k, p := range f.Parameters {
		sp := plot.SweepParam{Key: p.Key, Log: p.Range != nil && p.Range.Log}
		numeric := true
		for _, r := range results {
			sp.Labels = append(sp.Labels, r.Texts[k])
			switch v := r.Values[k].(type) {
			case int:
				sp.Numbers = append(sp.Numbers, float64(v))
			case float64:
				sp.Numbers = append(sp.Numbers, v)
			default:
				numeric = false
			}
		}
		if !numeric {
			sp.Numbers = nil
		}
		fig.Params = append(fig.Params, sp)
	}
	return path, plot.Sweep(path, fig)
}
