package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
)

// toyDataset returns n random images with labels cycling through the classes.
func toyDataset(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	g := data.CIFARGeometry
	d := &data.Dataset{Geometry: g, Images: make([]byte, n*g.Size()), Labels: make([]uint8, n), Classes: data.DefaultClasses()}
	for i := range d.Images {
		d.Images[i] = uint8(r.IntN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(i % len(d.Classes))
	}
	return d
}

// toyLoop returns a loop over 40 training and 20 validation images (batches
// of 8) of a small model configured by sets.
func toyLoop(t *testing.T, sets ...string) *Loop {
	t.Helper()
	return toyLoopN(t, 40, sets...)
}

// toyLoopN is toyLoop with n training images.
func toyLoopN(t *testing.T, n int, sets ...string) *Loop {
	t.Helper()
	base := []string{"seed=3", "model.input=3072", "model.classes=10", "model.hidden=[8,8]", "train.epochs=2", "train.batch_size=8", "train.optimizer.lr=0.01"}
	cfg, err := config.Load(config.LoadOptions{Sets: append(base, sets...)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := model.NewParams(cfg.Model.Spec(), cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	tr, val := toyDataset(n, 1), toyDataset(20, 2)
	m, err := classifier.New(cfg.Model.Spec(), p, tr.Geometry, data.ComputeStats(tr), tr.Classes)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoop(cfg, m, tr, val)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// poison sets the second layer's weights into its first unit to -Inf. With
// sigmoid activations (outputs strictly between 0 and 1) that unit's input
// is -Inf and its output 0: the loss stays finite, but backpropagation
// through it multiplies 0 by -Inf, so the first layer's gradients are NaN.
func poison(l *Loop) {
	w := l.Model.Params.Layers[1]
	for i := 0; i < w.In; i++ {
		w.W[i*w.Out] = float32(math.Inf(-1))
	}
}

// TestNonFiniteGradientStopsBeforeTheStep: with gradient clipping on, a NaN
// gradient norm stops training at that step, before the optimizer applies
// it (ClipGlobalNorm used to leave it as it was and the loop applied it).
// Without clipping the NaN is applied, and the next step's loss stops
// training; either way a checkpoint of the diverged state is refused.
func TestNonFiniteGradientStopsBeforeTheStep(t *testing.T) {
	tests := []struct {
		name    string
		sets    []string
		clipped bool
		want    string
	}{
		{name: "clipping: the gradient norm", sets: []string{"model.activation=sigmoid", "train.grad_clip=1"}, clipped: true,
			want: "epoch 1 step 1: training diverged: the gradient norm is NaN"},
		{name: "no clipping: the next loss", sets: []string{"model.activation=sigmoid"},
			want: "epoch 1 step 2: training diverged: the training loss is NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := toyLoop(t, tc.sets...)
			poison(l)
			w0 := append([]float32(nil), l.Model.Params.Layers[0].W...)
			err := l.Fit(context.Background())
			if !errors.Is(err, ErrDiverged) || err.Error() != tc.want {
				t.Fatalf("Fit: %v, want %q (ErrDiverged)", err, tc.want)
			}
			if l.Epoch != 0 || len(l.History) != 0 {
				t.Fatalf("epoch %d, history %d after diverging in epoch 1", l.Epoch, len(l.History))
			}
			clipped := tc.clipped
			if _, ok := nonFinite(l.Model.Params.Layers[0].W); ok != clipped {
				t.Fatalf("first layer finite %v, want %v", ok, clipped)
			}
			if clipped {
				for i, v := range l.Model.Params.Layers[0].W {
					if v != w0[i] {
						t.Fatalf("the diverged step was applied: weight %d %v -> %v", i, w0[i], v)
					}
				}
				if l.GlobalStep != 0 {
					t.Fatalf("global step %d, want 0", l.GlobalStep)
				}
				return
			}
			if _, err := Snapshot(l); !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "parameter layers.0.weight holds NaN") {
				t.Fatalf("Snapshot of NaN weights: %v, want ErrDiverged naming layers.0.weight", err)
			}
		})
	}
}

// TestDivergingLossStops trains with a learning rate so large that the
// loss overflows, and checks that training stops at the first non-finite
// loss with the epoch and step, never saving the state.
func TestDivergingLossStops(t *testing.T) {
	l := toyLoop(t, "train.optimizer.name=sgd", "train.optimizer.lr=1e6", "train.optimizer.momentum=0")
	steps := 0
	err := l.Fit(context.Background(), stepCounter{&steps})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("Fit: %v, want ErrDiverged", err)
	}
	if !strings.Contains(err.Error(), "training diverged: the training loss is") || !strings.HasPrefix(err.Error(), "epoch ") {
		t.Fatalf("message %q does not name the epoch, step and loss", err)
	}
	t.Logf("%v after %d good steps", err, steps)
}

type stepCounter struct{ n *int }

func (stepCounter) TrainStart(*Loop) error           { return nil }
func (s stepCounter) Step(*Loop, StepEvent) error    { *s.n++; return nil }
func (stepCounter) EpochEnd(*Loop, EpochEvent) error { return nil }
func (stepCounter) TrainEnd(*Loop, error) error      { return nil }
