package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bnBatch receives, through Read nodes, copies of one layer's batch mean
// and biased batch variance, 1 x Out each.
type bnBatch struct {
	bn             *BatchNorm
	mean, variance G.Value
	meanBuf, vBuf  []float32 // backing of mean and variance
}

// bnRunStats is the graph's copy of one layer's running statistics,
// refreshed from Params before every Run (so no operation of the graph can
// write to Params).
type bnRunStats struct {
	bn             *BatchNorm
	mean, variance []float32
}

// batchNorm returns (z - mean) / sqrt(var + eps) * gamma + beta for the
// Batch x Out pre-activations z. A training graph takes mean and (biased)
// var over the batch, built from Gorgonia operations so that gradients flow
// through them, and reads them out for the running statistics; gamma and
// beta become parameters. A prediction graph uses the running statistics.
func (n *Net) batchNorm(i int, z *G.Node, bn *BatchNorm, train bool) (*G.Node, error) {
	out := len(bn.Gamma)
	gamma := n.row(fmt.Sprintf("bn%d_gamma", i), bn.Gamma)
	beta := n.row(fmt.Sprintf("bn%d_beta", i), bn.Beta)
	eps := G.NewConstant(float32(n.spec.Eps()), G.WithName(fmt.Sprintf("bn%d_eps", i)))
	var mean, variance, centered *G.Node
	var err error
	if train {
		n.params = append(n.params, gamma, beta)
		// Batch averages as a 1 x Batch row of 1/Batch times the Batch x Out matrix.
		avg := make([]float32, n.batch)
		for j := range avg {
			avg[j] = 1 / float32(n.batch)
		}
		avgRow := n.row(fmt.Sprintf("bn%d_avg", i), avg)
		if mean, err = G.Mul(avgRow, z); err != nil {
			return nil, fmt.Errorf("batch mean: %w", err)
		}
		if centered, err = G.BroadcastSub(z, mean, nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("center: %w", err)
		}
		sq, err := G.Square(centered)
		if err != nil {
			return nil, fmt.Errorf("square: %w", err)
		}
		if variance, err = G.Mul(avgRow, sq); err != nil {
			return nil, fmt.Errorf("batch variance: %w", err)
		}
		s := &bnBatch{bn: bn, meanBuf: make([]float32, out), vBuf: make([]float32, out)}
		s.mean = tensor.New(tensor.WithShape(1, out), tensor.WithBacking(s.meanBuf))
		s.variance = tensor.New(tensor.WithShape(1, out), tensor.WithBacking(s.vBuf))
		n.sinks = append(n.sinks, G.Read(mean, &s.mean), G.Read(variance, &s.variance))
		n.bnBatch = append(n.bnBatch, s)
	} else {
		r := &bnRunStats{bn: bn, mean: make([]float32, out), variance: make([]float32, out)}
		mean = n.row(fmt.Sprintf("bn%d_running_mean", i), r.mean)
		variance = n.row(fmt.Sprintf("bn%d_running_var", i), r.variance)
		if centered, err = G.BroadcastSub(z, mean, nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("center: %w", err)
		}
		n.bnRun = append(n.bnRun, r)
	}
	ve, err := G.Add(variance, eps)
	if err != nil {
		return nil, fmt.Errorf("add eps: %w", err)
	}
	std, err := G.Sqrt(ve)
	if err != nil {
		return nil, fmt.Errorf("sqrt: %w", err)
	}
	y, err := G.BroadcastHadamardDiv(centered, std, nil, []byte{0})
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	if y, err = G.BroadcastHadamardProd(y, gamma, nil, []byte{0}); err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	if y, err = G.BroadcastAdd(y, beta, nil, []byte{0}); err != nil {
		return nil, fmt.Errorf("shift: %w", err)
	}
	return y, nil
}

// updateRunningStats folds the last Run's batch statistics into Params.
func (n *Net) updateRunningStats() {
	m := n.spec.Momentum()
	unbias := float64(n.batch) / float64(n.batch-1)
	for _, s := range n.bnBatch {
		rm, rv := s.bn.RunningMean, s.bn.RunningVar
		for j := range rm {
			rm[j] = float32((1-m)*float64(rm[j]) + m*float64(s.meanBuf[j]))
			rv[j] = float32((1-m)*float64(rv[j]) + m*float64(s.vBuf[j])*unbias)
		}
	}
}
