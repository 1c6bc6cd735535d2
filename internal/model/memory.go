package model

import (
	"fmt"
	"math"
)

// MemoryEstimate is the memory, in bytes, that training a model needs, by
// part. It covers the model and its training, not the data set nor the Go
// runtime.
type MemoryEstimate struct {
	// Parameters is the number of trained parameters (not bytes).
	Parameters float64
	// Weights is the parameters and batch-normalization running statistics.
	Weights float64
	// Gradients is one gradient per parameter.
	Gradients float64
	// Optimizer is the optimizer's buffers (Adam's two moments, SGD's
	// velocity), one value per parameter each.
	Optimizer float64
	// Checkpoint is the peak extra memory of writing a checkpoint: copies of
	// the weights and optimizer buffers, and their serialized bytes.
	Checkpoint float64
	// Activations is the training graph's values and their gradients for one
	// batch, and the inference graph's values for one evaluation batch.
	Activations float64
}

// Total is the sum of the parts, in bytes.
func (m MemoryEstimate) Total() float64 {
	return m.Weights + m.Gradients + m.Optimizer + m.Checkpoint + m.Activations
}

// String describes the estimate in one line, e.g. "about 455 GB:
// 10308400010 parameters (weights 41.2 GB, gradients 41.2 GB, optimizer
// 82.5 GB, checkpoint copies 289 GB, activations 1.92 GB)".
func (m MemoryEstimate) String() string {
	return fmt.Sprintf("about %s: %.0f parameters (weights %s, gradients %s, optimizer %s, checkpoint copies %s, activations %s)",
		bytesText(m.Total()), m.Parameters, bytesText(m.Weights), bytesText(m.Gradients),
		bytesText(m.Optimizer), bytesText(m.Checkpoint), bytesText(m.Activations))
}

// float32 values per batch row and layer output, as counted from the
// graphs build makes (Gorgonia keeps one value per node and, in training,
// one gradient per node).
const (
	// trainPerOut: matmul, bias add, activation, and their gradients, plus
	// a temporary of the backward pass.
	trainPerOut = 7
	// bnPerOut: batch normalization's centred, scaled and shifted values,
	// and their gradients.
	bnPerOut = 8
	// dropPerOut: the mask and the masked values, and the gradient.
	dropPerOut = 3
	// inferPerOut: matmul, bias add, activation (batch normalization adds
	// two).
	inferPerOut = 3
)

// TrainingMemory estimates the memory needed to train spec with batches of
// trainBatch examples, evaluating in batches of evalBatch, with an
// optimizer keeping optimizerBuffers values per parameter (2 for Adam, 1
// for SGD). Sizes are computed in float64, so absurd specs give huge
// estimates instead of overflowing.
func TrainingMemory(spec Spec, trainBatch, evalBatch, optimizerBuffers int) MemoryEstimate {
	const f32 = 4 // bytes per value
	var params, buffers, trainAct, inferAct float64
	in := float64(spec.Input)
	sizes := spec.Sizes()
	for l := 1; l < len(sizes); l++ {
		out := float64(sizes[l])
		params += float64(sizes[l-1])*out + out
		hidden := l < len(sizes)-1
		train, infer := float64(trainPerOut), float64(inferPerOut)
		if hidden && spec.BatchNorm {
			params += 2 * out  // gamma, beta
			buffers += 2 * out // running mean, variance
			train += bnPerOut
			infer += 2
		}
		if hidden && spec.dropout(l-1) > 0 {
			train += dropPerOut
		}
		trainAct += train * out
		inferAct += infer * out
	}
	// The inputs, and in training the targets.
	trainAct += in + float64(spec.Classes)
	inferAct += in
	slots := float64(optimizerBuffers)
	return MemoryEstimate{
		Parameters: params,
		Weights:    f32 * (params + buffers),
		Gradients:  f32 * params,
		Optimizer:  f32 * slots * params,
		// Snapshot copies (weights, a transient second export, buffers),
		// then the serialized bytes of weights and buffers.
		Checkpoint:  f32 * ((2+slots)*params + (1+slots)*params + 2*buffers),
		Activations: f32 * (float64(trainBatch)*trainAct + float64(evalBatch)*inferAct),
	}
}

// CheckMemory returns an error when the estimate does not fit in the
// memory the machine has available (SystemMemory), naming both. Where that
// memory is unknown it returns nil.
func CheckMemory(m MemoryEstimate) error {
	avail, total, ok := SystemMemory()
	if !ok || m.Total() <= float64(avail) {
		return nil
	}
	return fmt.Errorf("training this model needs %s; this machine has %s of memory available (%s total)",
		m, bytesText(float64(avail)), bytesText(float64(total)))
}

// bytesText formats a byte count in decimal units with three significant
// digits ("447 GB", "1.25 GB", "980 MB").
func bytesText(b float64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB", "EB"}
	u := 0
	for b >= 1000 && u < len(units)-1 {
		b /= 1000
		u++
	}
	if u == 0 || math.IsInf(b, 0) {
		return fmt.Sprintf("%.0f %s", b, units[u])
	}
	switch {
	case b >= 100:
		return fmt.Sprintf("%.0f %s", b, units[u])
	case b >= 10:
		return fmt.Sprintf("%.1f %s", b, units[u])
	}
	return fmt.Sprintf("%.2f %s", b, units[u])
}
