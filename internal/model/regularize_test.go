package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refForward computes the logits of p for the batch x in float64, as the
// documented model: Linear -> BatchNorm -> activation -> dropout per hidden
// layer. train selects batch statistics (else running statistics); masks,
// if non-nil, holds each hidden layer's dropout mask (nil for none). It
// returns the logits and, for training, each normalized layer's batch mean
// and biased variance.
func refForward(spec Spec, p *Params, x []float32, batch int, train bool, masks [][]float32) (logits []float64, means, vars [][]float64) {
	h := make([]float64, len(x))
	for i, v := range x {
		h[i] = float64(v)
	}
	for li, l := range p.Layers {
		z := make([]float64, batch*l.Out)
		for r := 0; r < batch; r++ {
			for c := 0; c < l.Out; c++ {
				s := float64(l.B[c])
				for k := 0; k < l.In; k++ {
					s += h[r*l.In+k] * float64(l.W[k*l.Out+c])
				}
				z[r*l.Out+c] = s
			}
		}
		if li == len(p.Layers)-1 {
			return z, means, vars
		}
		if bn := l.BN; bn != nil {
			mean, variance := make([]float64, l.Out), make([]float64, l.Out)
			if train {
				for c := 0; c < l.Out; c++ {
					for r := 0; r < batch; r++ {
						mean[c] += z[r*l.Out+c] / float64(batch)
					}
					for r := 0; r < batch; r++ {
						d := z[r*l.Out+c] - mean[c]
						variance[c] += d * d / float64(batch)
					}
				}
				means, vars = append(means, mean), append(vars, variance)
			} else {
				for c := 0; c < l.Out; c++ {
					mean[c], variance[c] = float64(bn.RunningMean[c]), float64(bn.RunningVar[c])
				}
			}
			for r := 0; r < batch; r++ {
				for c := 0; c < l.Out; c++ {
					xhat := (z[r*l.Out+c] - mean[c]) / math.Sqrt(variance[c]+spec.Eps())
					z[r*l.Out+c] = xhat*float64(bn.Gamma[c]) + float64(bn.Beta[c])
				}
			}
		}
		for i, v := range z {
			switch spec.Activation {
			case "relu":
				v = math.Max(v, 0)
			case "tanh":
				v = math.Tanh(v)
			case "sigmoid":
				v = 1 / (1 + math.Exp(-v))
			case "leaky_relu":
				if v < 0 {
					v *= spec.LeakySlope
				}
			}
			if masks != nil && masks[li] != nil {
				v *= float64(masks[li][i])
			}
			z[i] = v
		}
		h = z
	}
	return nil, nil, nil
}

// randomize gives every parameter and buffer of p non-trivial values.
func randomize(p *Params, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, l := range p.Layers {
		for i := range l.B {
			l.B[i] = float32(rng.NormFloat64() * 0.3)
		}
		if bn := l.BN; bn != nil {
			for i := range bn.Gamma {
				bn.Gamma[i] = float32(0.5 + rng.Float64())
				bn.Beta[i] = float32(rng.NormFloat64() * 0.3)
				bn.RunningMean[i] = float32(rng.NormFloat64())
				bn.RunningVar[i] = float32(0.2 + 2*rng.Float64())
			}
		}
	}
}

func fillNormal(s []float32, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
}

func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestSpecValidateRegularization(t *testing.T) {
	base := Spec{Input: 4, Hidden: []int{3, 2}, Classes: 2, Activation: "relu", Init: "he"}
	tests := []struct {
		name    string
		edit    func(*Spec)
		wantErr string
	}{
		{name: "none", edit: func(*Spec) {}},
		{name: "dropout per layer", edit: func(s *Spec) { s.Dropout = []float64{0.5, 0} }},
		{name: "dropout near one", edit: func(s *Spec) { s.Dropout = []float64{0.999, 0.1} }},
		{name: "dropout count", edit: func(s *Spec) { s.Dropout = []float64{0.5} }, wantErr: "1 probabilities for 2 hidden layers"},
		{name: "dropout one", edit: func(s *Spec) { s.Dropout = []float64{0.5, 1} }, wantErr: "dropout[1] 1 must be >= 0 and < 1"},
		{name: "dropout negative", edit: func(s *Spec) { s.Dropout = []float64{-0.1, 0} }, wantErr: "dropout[0]"},
		{name: "dropout NaN", edit: func(s *Spec) { s.Dropout = []float64{math.NaN(), 0} }, wantErr: "dropout[0]"},
		{name: "batch norm defaults", edit: func(s *Spec) { s.BatchNorm = true }},
		{name: "batch norm settings", edit: func(s *Spec) { s.BatchNorm, s.BNMomentum, s.BNEps = true, 1, 1e-3 }},
		{name: "momentum above one", edit: func(s *Spec) { s.BatchNorm, s.BNMomentum = true, 1.5 }, wantErr: "momentum 1.5"},
		{name: "momentum negative", edit: func(s *Spec) { s.BNMomentum = -0.1 }, wantErr: "momentum -0.1"},
		{name: "eps negative", edit: func(s *Spec) { s.BNEps = -1 }, wantErr: "eps -1"},
		{name: "eps infinite", edit: func(s *Spec) { s.BNEps = math.Inf(1) }, wantErr: "eps +Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			err := s.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if got := (Spec{}).Momentum(); got != 0.1 {
		t.Errorf("default momentum %v, want 0.1", got)
	}
	if got := (Spec{}).Eps(); got != 1e-5 {
		t.Errorf("default eps %v, want 1e-5", got)
	}
}

// TestGradientsRegularizedMatchFiniteDifferences checks autodiff through
// batch statistics and fixed dropout masks against central differences.
func TestGradientsRegularizedMatchFiniteDifferences(t *testing.T) {
	tests := []struct {
		name      string
		act       string
		batchNorm bool
		dropout   []float64
	}{
		{name: "batch norm relu", act: "relu", batchNorm: true},
		{name: "batch norm tanh", act: "tanh", batchNorm: true},
		{name: "dropout leaky_relu", act: "leaky_relu", dropout: []float64{0.5, 0.25}},
		{name: "batch norm and dropout sigmoid", act: "sigmoid", batchNorm: true, dropout: []float64{0.3, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tinySpec(tc.act)
			spec.BatchNorm, spec.Dropout = tc.batchNorm, tc.dropout
			p, err := NewParams(spec, 7)
			if err != nil {
				t.Fatal(err)
			}
			randomize(p, 3)
			const batch = 4
			net, err := NewTrainer(spec, p, batch)
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			net.SampleDropout(rand.New(rand.NewPCG(5, 6)))
			fillNormal(net.Input(), 11)
			for r := 0; r < batch; r++ {
				net.Targets()[r*spec.Classes+r%spec.Classes] = 1
			}
			lossAt(t, net)
			grads, err := net.Grads()
			if err != nil {
				t.Fatal(err)
			}
			if len(grads) != len(p.Slices()) {
				t.Fatalf("%d gradients for %d parameter slices", len(grads), len(p.Slices()))
			}
			snapshot := make([][]float32, len(grads))
			for i, g := range grads {
				snapshot[i] = slices.Clone(g)
			}
			// Central differences of the float64 reference loss (checked
			// against the graph's loss) avoid float32 cancellation, so h can
			// be small enough not to cross ReLU kinks.
			var masks [][]float32
			if len(net.drops) > 0 {
				k := 0
				for _, prob := range spec.Dropout {
					if prob > 0 {
						masks = append(masks, net.drops[k].buf)
						k++
					} else {
						masks = append(masks, nil)
					}
				}
			}
			refLoss := func() float64 {
				logits, _, _ := refForward(spec, p, net.Input(), batch, true, masks)
				var total float64
				for r := 0; r < batch; r++ {
					row, trow := logits[r*spec.Classes:(r+1)*spec.Classes], net.Targets()[r*spec.Classes:(r+1)*spec.Classes]
					m := slices.Max(row)
					var sum, dot float64
					for c, v := range row {
						sum += math.Exp(v - m)
						dot += float64(trow[c]) * (v - m)
					}
					total += math.Log(sum) - dot
				}
				return total / batch
			}
			if got, want := lossAt(t, net), refLoss(); math.Abs(got-want) > 1e-5*math.Max(1, want) {
				t.Fatalf("graph loss %v, reference loss %v", got, want)
			}
			const h = 1e-4
			for pi, s := range p.Slices() {
				if len(snapshot[pi]) != len(s) {
					t.Fatalf("gradient %d has %d values for %d parameters", pi, len(snapshot[pi]), len(s))
				}
				for j := range s {
					orig := s[j]
					s[j] = orig + h
					up, upAt := refLoss(), s[j]
					s[j] = orig - h
					down, downAt := refLoss(), s[j]
					s[j] = orig
					num := (up - down) / float64(upAt-downAt)
					if got := float64(snapshot[pi][j]); math.Abs(got-num) > 1e-4+1e-3*math.Abs(num) {
						t.Errorf("param %d[%d]: autodiff %.6f, finite difference %.6f", pi, j, got, num)
					}
				}
			}
		})
	}
}

// TestBatchNormTraining checks a training graph's forward pass against the
// hand-computed batch-statistics path and its running-statistics updates.
func TestBatchNormTraining(t *testing.T) {
	// A large eps and momentum make any slip (eps in the stored variance,
	// biased running variance, swapped momentum) visible.
	spec := Spec{Input: 3, Hidden: []int{4, 3}, Classes: 2, Activation: "relu", Init: "he",
		BatchNorm: true, BNMomentum: 0.3, BNEps: 0.5}
	p, err := NewParams(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	randomize(p, 4)
	const batch = 5
	net, err := NewTrainer(spec, p, batch)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	for step := 0; step < 2; step++ {
		fillNormal(net.Input(), uint64(20+step))
		for i := range net.Input() {
			net.Input()[i] += 2 // non-zero mean
		}
		want, means, vars := refForward(spec, p, net.Input(), batch, true, nil)
		before := p.Clone()
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		logits, err := net.Logits()
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "logits", logits, want, 1e-4)
		for li, k := 0, 0; li < len(p.Layers)-1; li, k = li+1, k+1 {
			old, bn := before.Layers[li].BN, p.Layers[li].BN
			wantMean, wantVar := make([]float64, len(bn.Gamma)), make([]float64, len(bn.Gamma))
			for c := range wantMean {
				wantMean[c] = 0.7*float64(old.RunningMean[c]) + 0.3*means[k][c]
				wantVar[c] = 0.7*float64(old.RunningVar[c]) + 0.3*vars[k][c]*batch/(batch-1)
			}
			closeTo(t, "running mean", bn.RunningMean, wantMean, 1e-5)
			closeTo(t, "running var", bn.RunningVar, wantVar, 1e-5)
			if !slices.Equal(bn.Gamma, old.Gamma) || !slices.Equal(bn.Beta, old.Beta) {
				t.Fatal("Run changed gamma or beta")
			}
		}
	}
}

// TestBatchNormPredictor checks that a prediction graph normalizes with the
// running statistics, sees their in-place updates and never writes to them.
func TestBatchNormPredictor(t *testing.T) {
	spec := Spec{Input: 3, Hidden: []int{4}, Classes: 3, Activation: "tanh", Init: "glorot", BatchNorm: true, BNEps: 0.1}
	p, err := NewParams(spec, 5)
	if err != nil {
		t.Fatal(err)
	}
	randomize(p, 6)
	for _, batch := range []int{1, 3} {
		net, err := NewPredictor(spec, p, batch)
		if err != nil {
			t.Fatal(err)
		}
		fillNormal(net.Input(), uint64(batch))
		before := p.Clone()
		for run := 0; run < 2; run++ {
			if run == 1 {
				p.Layers[0].BN.RunningMean[1] += 1.5
				p.Layers[0].BN.RunningVar[2] *= 3
				before = p.Clone()
			}
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			logits, err := net.Logits()
			if err != nil {
				t.Fatal(err)
			}
			want, _, _ := refForward(spec, p, net.Input(), batch, false, nil)
			closeTo(t, "logits", logits, want, 1e-5)
			for i, b := range p.Buffers() {
				if !slices.Equal(b, before.Buffers()[i]) {
					t.Fatalf("batch %d: predictor Run changed buffer %d: %v, was %v", batch, i, b, before.Buffers()[i])
				}
			}
		}
		net.Close()
	}
}

func TestBatchNormBuildErrors(t *testing.T) {
	bnSpec := Spec{Input: 3, Hidden: []int{4}, Classes: 2, Activation: "relu", Init: "he", BatchNorm: true}
	plainSpec := bnSpec
	plainSpec.BatchNorm = false
	bnParams, _ := NewParams(bnSpec, 1)
	plainParams, _ := NewParams(plainSpec, 1)
	tests := []struct {
		name    string
		spec    Spec
		p       *Params
		train   bool
		batch   int
		wantErr string
	}{
		{name: "train batch 1", spec: bnSpec, p: bnParams, train: true, batch: 1, wantErr: "at least 2"},
		{name: "predict batch 1", spec: bnSpec, p: bnParams, batch: 1},
		{name: "train batch 2", spec: bnSpec, p: bnParams, train: true, batch: 2},
		{name: "params lack batch norm", spec: bnSpec, p: plainParams, batch: 2, wantErr: "has no batch normalization"},
		{name: "params have extra batch norm", spec: plainSpec, p: bnParams, batch: 2, wantErr: "has batch normalization"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net, err := build(tc.spec, tc.p, tc.batch, tc.train, buildOptions{})
			if err == nil {
				net.Close()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("build: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("build error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParamsLayoutWithBatchNorm(t *testing.T) {
	tests := []struct {
		name        string
		batchNorm   bool
		wantNames   []string
		wantNoDecay []bool
		wantCount   int
		wantBuffers int
	}{
		{
			name:        "plain",
			wantNames:   []string{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"},
			wantNoDecay: []bool{false, true, false, true, false, true},
			wantCount:   5*4 + 4 + 4*3 + 3 + 3*3 + 3,
		},
		{
			name:      "batch norm",
			batchNorm: true,
			wantNames: []string{
				"layers.0.weight", "layers.0.bias", "layers.0.bn.weight", "layers.0.bn.bias",
				"layers.1.weight", "layers.1.bias", "layers.1.bn.weight", "layers.1.bn.bias",
				"layers.2.weight", "layers.2.bias",
				"layers.0.bn.running_mean", "layers.0.bn.running_var",
				"layers.1.bn.running_mean", "layers.1.bn.running_var",
			},
			wantNoDecay: []bool{false, true, true, true, false, true, true, true, false, true},
			wantCount:   5*4 + 4 + 2*4 + 4*3 + 3 + 2*3 + 3*3 + 3,
			wantBuffers: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tinySpec("relu")
			spec.BatchNorm = tc.batchNorm
			p, err := NewParams(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, n := range p.Export() {
				names = append(names, n.Name)
			}
			if !slices.Equal(names, tc.wantNames) {
				t.Errorf("Export names %v, want %v", names, tc.wantNames)
			}
			if got := p.NoDecay(); !slices.Equal(got, tc.wantNoDecay) {
				t.Errorf("NoDecay %v, want %v", got, tc.wantNoDecay)
			}
			if got := p.Count(); got != tc.wantCount {
				t.Errorf("Count %d, want %d", got, tc.wantCount)
			}
			if got := len(p.Buffers()); got != tc.wantBuffers {
				t.Errorf("%d buffers, want %d", got, tc.wantBuffers)
			}
			// Export()[i] holds Slices()[i]'s values (weights transposed).
			for i, s := range p.Slices() {
				if got := len(p.Export()[i].Data); got != len(s) {
					t.Errorf("Export()[%d] %s has %d values, Slices()[%d] %d", i, names[i], got, i, len(s))
				}
			}
			if tc.batchNorm {
				bn := p.Layers[0].BN
				if bn.Gamma[0] != 1 || bn.Beta[0] != 0 || bn.RunningMean[0] != 0 || bn.RunningVar[0] != 1 {
					t.Errorf("initial batch norm %+v, want gamma 1, beta 0, mean 0, var 1", bn)
				}
				if p.Layers[2].BN != nil {
					t.Error("output layer has batch normalization")
				}
				c := p.Clone()
				c.Layers[0].BN.RunningVar[0] = 9
				if bn.RunningVar[0] != 1 {
					t.Error("Clone shares batch-norm buffers")
				}
			}
		})
	}
}

// TestBatchNormExportImport trains a little, exports, imports and checks the
// rebuilt predictor's logits are identical.
func TestBatchNormExportImport(t *testing.T) {
	spec := tinySpec("relu")
	spec.BatchNorm, spec.Dropout = true, []float64{0.2, 0.1}
	p, err := NewParams(spec, 8)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(spec, p, 6)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	for step := 0; step < 3; step++ {
		fillNormal(tr.Input(), uint64(step))
		clear(tr.Targets())
		for r := 0; r < 6; r++ {
			tr.Targets()[r*3+r%3] = 1
		}
		tr.SampleDropout(rng)
		if err := tr.Run(); err != nil {
			t.Fatal(err)
		}
		grads, err := tr.Grads()
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range p.Slices() {
			for j := range s {
				s[j] -= 0.1 * grads[i][j]
			}
		}
	}
	if p.Layers[1].BN.RunningMean[0] == 0 || p.Layers[0].BN.Gamma[0] == 1 {
		t.Fatal("training left batch norm untouched")
	}
	byName := map[string]Named{}
	for _, n := range p.Export() {
		byName[n.Name] = n
	}
	lookup := func(name string) ([]int, []float32, error) {
		n, ok := byName[name]
		if !ok {
			return nil, nil, &missingError{name}
		}
		return n.Shape, n.Data, nil
	}
	q, err := Import(spec, lookup)
	if err != nil {
		t.Fatal(err)
	}
	logitsOf := func(p *Params) []float32 {
		net, err := NewPredictor(spec, p, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		fillNormal(net.Input(), 42)
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		l, err := net.Logits()
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(l)
	}
	if a, b := logitsOf(p), logitsOf(q); !slices.Equal(a, b) {
		t.Fatalf("imported logits %v, want %v", b, a)
	}

	tests := []struct {
		name    string
		spec    Spec
		edit    func(map[string]Named)
		wantErr string
	}{
		{name: "missing running var", spec: spec, edit: func(m map[string]Named) { delete(m, "layers.1.bn.running_var") },
			wantErr: "no tensor layers.1.bn.running_var"},
		{name: "wrong gamma shape", spec: spec, edit: func(m map[string]Named) {
			m["layers.0.bn.weight"] = Named{Shape: []int{3}, Data: make([]float32, 3)}
		}, wantErr: "layers.0.bn.weight has shape [3], the model needs [4]"},
		{name: "negative running var", spec: spec, edit: func(m map[string]Named) {
			m["layers.0.bn.running_var"] = Named{Shape: []int{4}, Data: []float32{1, -1, 1, 1}}
		}, wantErr: "running_var[1] is -1"},
		{name: "plain checkpoint for batch-norm spec", spec: spec, edit: func(m map[string]Named) {
			for k := range m {
				if strings.Contains(k, ".bn.") {
					delete(m, k)
				}
			}
		}, wantErr: "no tensor layers.0.bn.weight"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := byName
			byName = map[string]Named{}
			for k, v := range saved {
				byName[k] = v
			}
			defer func() { byName = saved }()
			tc.edit(byName)
			_, err := Import(tc.spec, lookup)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Import error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

type missingError struct{ name string }

func (e *missingError) Error() string { return "no tensor " + e.name }

// TestDropout checks masks come only from the rng passed in, apply only to
// training graphs and keep activations' expected values.
func TestDropout(t *testing.T) {
	spec := Spec{Input: 6, Hidden: []int{40, 30}, Classes: 4, Activation: "relu", Init: "he", Dropout: []float64{0.5, 0.25}}
	p, err := NewParams(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	randomize(p, 3)
	const batch = 400
	row := make([]float32, spec.Input)
	fillNormal(row, 9)
	fill := func(net *Net) {
		for r := 0; r < net.Batch(); r++ {
			copy(net.Input()[r*spec.Input:], row)
		}
	}
	plain := spec
	plain.Dropout = nil
	ref, _, _ := refForward(plain, p, row, 1, false, nil)

	t.Run("prediction ignores dropout", func(t *testing.T) {
		net, err := NewPredictor(spec, p, 3)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		fill(net)
		var first []float32
		for seed := uint64(0); seed < 3; seed++ {
			net.SampleDropout(rand.New(rand.NewPCG(seed, seed)))
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			logits, _ := net.Logits()
			if first == nil {
				first = slices.Clone(logits)
				closeTo(t, "logits", logits[:spec.Classes], ref, 1e-5)
			} else if !slices.Equal(logits, first) {
				t.Fatalf("seed %d: predictor logits changed: %v, want %v", seed, logits, first)
			}
		}
	})

	t.Run("masks need sampling", func(t *testing.T) {
		net, err := NewTrainer(spec, p, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		if err := net.Run(); err == nil || !strings.Contains(err.Error(), "SampleDropout") {
			t.Fatalf("Run without masks: error %v", err)
		}
		net.SampleDropout(nil)
		if err := net.Run(); err == nil {
			t.Fatal("Run after SampleDropout(nil) succeeded")
		}
		net.SampleDropout(rand.New(rand.NewPCG(1, 2)))
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("training masks", func(t *testing.T) {
		net, err := NewTrainer(spec, p, batch)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		fill(net)
		for r := 0; r < batch; r++ {
			net.Targets()[r*spec.Classes] = 1
		}
		run := func(seed uint64) []float32 {
			net.SampleDropout(rand.New(rand.NewPCG(seed, 1)))
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			l, _ := net.Logits()
			return slices.Clone(l)
		}
		a, b, a2 := run(1), run(2), run(1)
		if !slices.Equal(a, a2) {
			t.Fatal("same rng seed gave different logits")
		}
		if slices.Equal(a, b) {
			t.Fatal("different rng seeds gave identical logits")
		}
		// The outputs equal the reference with the same masks.
		masks := [][]float32{net.drops[0].buf, net.drops[1].buf}
		want, _, _ := refForward(spec, p, net.Input(), batch, true, masks)
		closeTo(t, "logits", a2, want, 1e-4)
		// Masks: zeros with probability p, else 1/(1-p), mean about 1.
		for i, d := range net.drops {
			var zeros int
			var sum float64
			for _, v := range d.buf {
				switch v {
				case 0:
					zeros++
				case d.scale:
				default:
					t.Fatalf("mask %d holds %v, want 0 or %v", i, v, d.scale)
				}
				sum += float64(v)
			}
			if frac := float64(zeros) / float64(len(d.buf)); math.Abs(frac-spec.Dropout[i]) > 0.02 {
				t.Errorf("mask %d drops %.3f, want about %v", i, frac, spec.Dropout[i])
			}
			if mean := sum / float64(len(d.buf)); math.Abs(mean-1) > 0.03 {
				t.Errorf("mask %d mean %.3f, want about 1", i, mean)
			}
		}
	})

	t.Run("expected value preserved", func(t *testing.T) {
		// With one hidden layer the logits are linear in the mask, so their
		// mean over many rows sharing one input estimates the dropout-free logits.
		one := Spec{Input: 6, Hidden: []int{40}, Classes: 4, Activation: "relu", Init: "he", Dropout: []float64{0.5}}
		q, err := NewParams(one, 4)
		if err != nil {
			t.Fatal(err)
		}
		randomize(q, 4)
		noDrop := one
		noDrop.Dropout = nil
		want, _, _ := refForward(noDrop, q, row, 1, false, nil)
		net, err := NewTrainer(one, q, batch)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		fill(net)
		net.SampleDropout(rand.New(rand.NewPCG(77, 1)))
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		l, _ := net.Logits()
		for c := range want {
			var sum, sq float64
			for r := 0; r < batch; r++ {
				v := float64(l[r*one.Classes+c])
				sum += v
				sq += v * v
			}
			mean := sum / batch
			stderr := math.Sqrt((sq/batch - mean*mean) / batch)
			if math.Abs(mean-want[c]) > 4*stderr+1e-4 {
				t.Errorf("logit %d: mean %.4f ± %.4f with dropout, %.4f without", c, mean, stderr, want[c])
			}
		}
	})

	t.Run("zero probability adds no mask", func(t *testing.T) {
		s := spec
		s.Dropout = []float64{0, 0.5}
		net, err := NewTrainer(s, p, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		if len(net.drops) != 1 {
			t.Fatalf("%d dropout masks, want 1", len(net.drops))
		}
	})
}
