package plot

import (
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
)

// logTicks marks the powers of ten, labelled 0.01, 0.001, 1e-04, ...
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	var ticks []gplot.Tick
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		v := math.Pow10(k)
		if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
			ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
		for m := 2; m < 10; m++ {
			if w := float64(m) * v; w > lo && w < hi {
				ticks = append(ticks, gplot.Tick{Value: w}) // minor
			}
		}
	}
	return ticks
}

// niceTicks labels about five to ten round values (steps of 1, 2, 2.5 or
// 5 times a power of ten) with as many decimals as the step needs.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []gplot.Tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := span / 5
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	step, mult := 10*mag, 10.0
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw*(1-1e-9) {
			step, mult = m*mag, m
			break
		}
	}
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	if mult == 2.5 && step < 10 {
		decimals++
	}
	var ticks []gplot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v == 0 {
			v = 0 // not -0
		}
		ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		if h := v + step/2; h < hi {
			ticks = append(ticks, gplot.Tick{Value: h}) // minor
		}
	}
	return ticks
}

// epochTicks marks whole epochs only, at most about ten of them.
type epochTicks struct{}

// Ticks implements plot.Ticker.
func (epochTicks) Ticks(lo, hi float64) []gplot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	if last < first {
		return nil
	}
	step := 1
	for i := 0; (last-first)/step > 10; i++ {
		step = []int{2, 5, 10}[i%3] * int(math.Pow10(i/3)) // 2, 5, 10, 20, 50, ...
	}
	var ticks []gplot.Tick
	for v := first; v <= last; v++ {
		if v%step == 0 {
			ticks = append(ticks, gplot.Tick{Value: float64(v), Label: strconv.Itoa(v)})
		}
	}
	return ticks
}
