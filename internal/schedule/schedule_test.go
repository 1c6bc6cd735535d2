package schedule

import (
	"encoding/json"
	"math"
	"testing"
)

// TestLR checks rates at chosen steps against values computed by hand from
// the PyTorch definitions.
func TestLR(t *testing.T) {
	type point struct {
		step int64
		want float64
	}
	tests := []struct {
		name        string
		s           Settings
		base        float64
		spe, epochs int
		points      []point
	}{
		{
			name: "constant", s: Settings{Name: "constant"}, base: 0.1, spe: 10, epochs: 5,
			points: []point{{0, 0.1}, {49, 0.1}, {1000, 0.1}, {-3, 0.1}},
		},
		{
			name: "empty name is constant", s: Settings{}, base: 0.3, spe: 1, epochs: 1,
			points: []point{{0, 0.3}},
		},
		{
			// W = 10 steps: (step+1)/10 of the rate.
			name: "constant with warmup", s: Settings{Name: "constant", WarmupEpochs: 1}, base: 0.1, spe: 10, epochs: 5,
			points: []point{{0, 0.01}, {4, 0.05}, {9, 0.1}, {10, 0.1}},
		},
		{
			// Epochs 0-1 (steps 0-19): 0.1; 2-3: 0.05; 4: 0.025.
			name: "step", s: Settings{Name: "step", StepEpochs: 2, Gamma: 0.5}, base: 0.1, spe: 10, epochs: 5,
			points: []point{{0, 0.1}, {19, 0.1}, {20, 0.05}, {39, 0.05}, {40, 0.025}, {49, 0.025}},
		},
		{
			name: "step default gamma", s: Settings{Name: "step", StepEpochs: 1}, base: 1, spe: 3, epochs: 3,
			points: []point{{2, 1}, {3, 0.1}, {6, 0.01}},
		},
		{
			// 5 steps, last = 4: 0.1*(1+cos(pi*s/4))/2.
			name: "cosine", s: Settings{Name: "cosine"}, base: 0.1, spe: 5, epochs: 1,
			points: []point{{0, 0.1}, {1, 0.08535533905932738}, {2, 0.05}, {4, 0}, {5, 0}},
		},
		{
			// W = 3: 0.1/3, 0.2/3, 0.1; then cosine from step 3 to step 11:
			// halfway (step 7) is (0.1+0.01)/2.
			name: "cosine with warmup", s: Settings{Name: "cosine", WarmupEpochs: 0.75, MinLR: 0.01}, base: 0.1, spe: 4, epochs: 3,
			points: []point{{0, 0.1 / 3}, {1, 0.2 / 3}, {2, 0.1}, {3, 0.1}, {7, 0.055}, {11, 0.01}, {12, 0.01}},
		},
		{
			// total 10, peak at step 0.3*10-1 = 2, initial 1/25 = 0.04,
			// final 0.04/1e4. Step 1: halfway up, 1 - 0.96/2. Step 4:
			// final + (1-final)/2*(cos(2pi/7)+1).
			name: "one_cycle", s: Settings{Name: "one_cycle", MaxLR: 1}, base: 0.01, spe: 5, epochs: 2,
			points: []point{{0, 0.04}, {1, 0.52}, {2, 1}, {4, 0.8117456539497631}, {9, 4e-6}, {10, 4e-6}},
		},
		{
			// MaxLR defaults to the base rate; div 10, final div 100, pct 0.5:
			// initial 0.1, final 0.001, peak at step 1 (total 4).
			name: "one_cycle custom", s: Settings{Name: "one_cycle", PctStart: 0.5, DivFactor: 10, FinalDivFactor: 100}, base: 1, spe: 2, epochs: 2,
			points: []point{{0, 0.1}, {1, 1}, {2, 0.001 + 0.999/2*(math.Cos(math.Pi/2)+1)}, {3, 0.001}},
		},
		{
			name: "plateau before any metric", s: Settings{Name: "plateau", Mode: "max", WarmupEpochs: 0.5}, base: 0.2, spe: 4, epochs: 3,
			points: []point{{0, 0.1}, {1, 0.2}, {11, 0.2}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.s, tc.base, tc.spe, tc.epochs)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.points {
				if got := s.LR(p.step); math.Abs(got-p.want) > 1e-12 {
					t.Errorf("LR(%d) = %v, want %v", p.step, got, p.want)
				}
			}
		})
	}
}

// TestPlateau follows ReduceLROnPlateau through a sequence of metrics.
func TestPlateau(t *testing.T) {
	tests := []struct {
		name    string
		s       Settings
		metrics []float64
		want    []float64 // rate after each epoch
	}{
		{
			// 0.504 is not above 0.5*1.01: a bad epoch. Two bad epochs in a
			// row (> patience 1) halve the rate; the floor 0.02 stops it.
			name:    "max",
			s:       Settings{Name: "plateau", Mode: "max", Patience: 1, Factor: 0.5, Threshold: 0.01, MinLR: 0.02},
			metrics: []float64{0.5, 0.504, 0.5, 0.6, 0.6, 0.59, 0.1, 0.1, 0.1, 0.1},
			want:    []float64{0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02},
		},
		{
			// Patience 0 and default factor 0.1: every epoch that does not
			// improve strictly divides the rate by 10. NaN never improves.
			name:    "min",
			s:       Settings{Name: "plateau", Mode: "min"},
			metrics: []float64{2, 1, 1, 0.5, math.NaN(), math.Inf(-1)},
			want:    []float64{0.1, 0.1, 0.01, 0.01, 0.001, 0.0001},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.s, 0.1, 10, 20)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range tc.metrics {
				s.EpochEnd(i+1, m)
				if got := s.LR(int64(i+1) * 10); math.Abs(got-tc.want[i]) > 1e-12 {
					t.Fatalf("after epoch %d (metric %v): LR = %v, want %v", i+1, m, got, tc.want[i])
				}
			}
			// Replaying an epoch already observed changes nothing.
			before := string(s.State())
			s.EpochEnd(len(tc.metrics), -1e9)
			if after := string(s.State()); after != before {
				t.Fatalf("replayed epoch changed the state: %s -> %s", before, after)
			}
		})
	}
}

// TestStateRoundTrip checks that a schedule restored from State midway gives
// the same rates as the original for the rest of the run.
func TestStateRoundTrip(t *testing.T) {
	const spe, epochs = 7, 6
	metrics := []float64{0.3, 0.31, 0.30, 0.29, 0.5, 0.4}
	for _, s := range []Settings{
		{Name: "constant", WarmupEpochs: 1},
		{Name: "step", StepEpochs: 2},
		{Name: "cosine", WarmupEpochs: 1.5, MinLR: 1e-4},
		{Name: "one_cycle", MaxLR: 0.5},
		{Name: "plateau", Mode: "max", Patience: 1, Factor: 0.5, MinLR: 1e-3},
	} {
		t.Run(s.Name, func(t *testing.T) {
			a, err := New(s, 0.1, spe, epochs)
			if err != nil {
				t.Fatal(err)
			}
			for e := 1; e <= 3; e++ {
				a.EpochEnd(e, metrics[e-1])
			}
			state := a.State()
			if !json.Valid(state) {
				t.Fatalf("state is not JSON: %s", state)
			}
			b, _ := New(s, 0.1, spe, epochs)
			if err := b.SetState(state); err != nil {
				t.Fatal(err)
			}
			for e := 4; e <= epochs; e++ {
				for st := int64(e-1) * spe; st < int64(e)*spe; st++ {
					if la, lb := a.LR(st), b.LR(st); la != lb {
						t.Fatalf("step %d: restored LR %v, original %v", st, lb, la)
					}
				}
				a.EpochEnd(e, metrics[e-1])
				b.EpochEnd(e, metrics[e-1])
			}
			if string(a.State()) != string(b.State()) {
				t.Fatalf("states diverged: %s vs %s", a.State(), b.State())
			}
		})
	}
}

func TestSetStateErrors(t *testing.T) {
	cos, _ := New(Settings{Name: "cosine"}, 0.1, 1, 1)
	pl, _ := New(Settings{Name: "plateau", Mode: "min"}, 0.1, 1, 1)
	tests := []struct {
		name  string
		s     Schedule
		state string
	}{
		{"other schedule", cos, `{"name":"step"}`},
		{"not json", cos, `{`},
		{"plateau from cosine", pl, `{"name":"cosine"}`},
		{"plateau zero lr", pl, `{"name":"plateau","lr":0}`},
		{"plateau not json", pl, `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := string(tc.s.State())
			if err := tc.s.SetState(json.RawMessage(tc.state)); err == nil {
				t.Fatal("bad state accepted")
			}
			if after := string(tc.s.State()); after != before {
				t.Fatalf("failed SetState changed the state: %s -> %s", before, after)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name        string
		s           Settings
		base        float64
		spe, epochs int
	}{
		{"unknown", Settings{Name: "linear"}, 0.1, 1, 1},
		{"no steps", Settings{Name: "constant"}, 0.1, 0, 1},
		{"no epochs", Settings{Name: "constant"}, 0.1, 1, 0},
		{"zero lr", Settings{Name: "cosine"}, 0, 1, 1},
		{"nan lr", Settings{Name: "constant"}, math.NaN(), 1, 1},
		{"negative warmup", Settings{Name: "cosine", WarmupEpochs: -1}, 0.1, 1, 1},
		{"step without period", Settings{Name: "step"}, 0.1, 1, 1},
		{"step growing", Settings{Name: "step", StepEpochs: 1, Gamma: 2}, 0.1, 1, 1},
		{"cosine min above base", Settings{Name: "cosine", MinLR: 1}, 0.1, 1, 1},
		{"one_cycle with warmup", Settings{Name: "one_cycle", WarmupEpochs: 1}, 0.1, 1, 1},
		{"one_cycle pct 1", Settings{Name: "one_cycle", PctStart: 1}, 0.1, 1, 1},
		{"one_cycle no rate", Settings{Name: "one_cycle"}, 0, 1, 1},
		{"plateau without mode", Settings{Name: "plateau"}, 0.1, 1, 1},
		{"plateau factor 1", Settings{Name: "plateau", Mode: "min", Factor: 1}, 0.1, 1, 1},
		{"plateau negative patience", Settings{Name: "plateau", Mode: "min", Patience: -1}, 0.1, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.s, tc.base, tc.spe, tc.epochs); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
