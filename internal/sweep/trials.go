package sweep

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/lepton-cli/lepton/internal/config"
)

// Trial is one training run of a sweep.
type Trial struct {
	// Index numbers the trial from 0; its directory is trials/<%03d>.
	Index int
	// Values are the swept keys' values, in parameter order.
	Values []Setting
	// Config is the trial's resolved, validated config: the base config,
	// then the sweep's set, then Values, applied like --set.
	Config *config.Config
}

// Name is the trial's directory name under trials/ ("007").
func (t Trial) Name() string { return fmt.Sprintf("%03d", t.Index) }

// Describe lists the trial's swept values ("lr=0.1 model.hidden=[8]").
func (t Trial) Describe() string {
	parts := make([]string, len(t.Values))
	for i, v := range t.Values {
		parts[i] = v.String()
	}
	return strings.Join(parts, " ")
}

// Resolve generates the sweep's trials (every combination for a grid, in
// file order with the last parameter varying fastest; Trials draws from
// Seed for random) and resolves and validates each one's config. One bad
// trial refuses the whole sweep: the error, a *config.Error, names the
// sweep file, the trial and the key.
func (f *File) Resolve() ([]Trial, error) {
	if _, err := os.Stat(f.Base); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &config.Error{File: f.Path, Key: "base", Msg: "open base config " + f.Base, Err: err}
	}
	values := f.draw()
	trials := make([]Trial, len(values))
	sets := make([]string, 0, len(f.Set)+len(f.Parameters))
	for _, s := range f.Set {
		sets = append(sets, s.String())
	}
	for i, vs := range values {
		t := Trial{Index: i, Values: vs}
		all := sets[:len(f.Set):len(f.Set)]
		for _, v := range vs {
			all = append(all, v.String())
		}
		cfg, err := config.Load(config.LoadOptions{File: f.Base, Sets: all})
		if err != nil {
			return nil, f.trialError(t, err)
		}
		t.Config = cfg
		trials[i] = t
	}
	return trials, nil
}

// trialError names the sweep file and the trial in a config error. Errors
// caused by a set or a parameter (reported by config as "--set k=v") name
// the key in the sweep file instead.
func (f *File) trialError(t Trial, err error) error {
	where := fmt.Sprintf("%s: trial %s (%s)", f.Path, t.Name(), t.Describe())
	var ce *config.Error
	if !errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", where, err)
	}
	e := *ce
	switch {
	case e.File == "" || strings.HasPrefix(e.File, "--set "):
		e.File = where
	default:
		e.File = where + ": " + e.File
	}
	return &e
}

// draw lists each trial's swept values.
func (f *File) draw() [][]Setting {
	if f.Method == "random" {
		rng := rand.New(rand.NewPCG(f.Seed, 0x5ee9))
		out := make([][]Setting, f.Trials)
		for i := range out {
			for _, p := range f.Parameters {
				out[i] = append(out[i], Setting{Key: p.Key, Value: p.sample(rng)})
			}
		}
		return out
	}
	out := [][]Setting{nil}
	for _, p := range f.Parameters {
		var next [][]Setting
		for _, prefix := range out {
			for _, v := range p.Values {
				next = append(next, append(prefix[:len(prefix):len(prefix)], Setting{Key: p.Key, Value: v}))
			}
		}
		out = next
	}
	return out
}

// sample draws one value: one of Values, or a point of Range (uniform, or
// log-uniform with Log; an integer with Int; floats rounded to 4
// significant digits so trial configs stay readable).
func (p Parameter) sample(rng *rand.Rand) string {
	if p.Range == nil {
		return p.Values[rng.IntN(len(p.Values))]
	}
	r := p.Range
	if r.Int {
		lo, hi := int64(r.Min), int64(r.Max)
		if !r.Log {
			return strconv.FormatInt(lo+rng.Int64N(hi-lo+1), 10)
		}
		// Log-uniform over [lo, hi+1), floored: each integer's share is
		// the log-width of its unit interval.
		v := int64(math.Exp(math.Log(float64(lo)) + rng.Float64()*(math.Log(float64(hi+1))-math.Log(float64(lo)))))
		return strconv.FormatInt(min(max(v, lo), hi), 10)
	}
	var x float64
	if r.Log {
		x = math.Exp(math.Log(r.Min) + rng.Float64()*(math.Log(r.Max)-math.Log(r.Min)))
	} else {
		x = r.Min + rng.Float64()*(r.Max-r.Min)
	}
	x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', 4, 64), 64)
	x = min(max(x, r.Min), r.Max)
	return strconv.FormatFloat(x, 'g', -1, 64)
}
