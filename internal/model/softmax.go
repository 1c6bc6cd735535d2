package model

import "math"

// expSum returns the largest value of row (-Inf for an empty row) and the
// sum of exp(v - max) over row: the one log-sum-exp computation behind the
// loss, its gradient, Softmax and CrossEntropy.
func expSum(row []float32) (m, s float64) {
	m = math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m, s
}

// LogSumExp returns log(sum(exp(row))), computed stably in float64.
func LogSumExp(row []float32) float64 {
	m, s := expSum(row)
	return math.Log(s) + m
}

// Softmax returns the probabilities of a row of logits, computed stably.
func Softmax(logits []float32) []float64 {
	out := make([]float64, len(logits))
	SoftmaxInto(out, logits)
	return out
}

// SoftmaxInto writes the probabilities of a row of logits into dst, which
// must have room for len(logits) values.
func SoftmaxInto(dst []float64, logits []float32) {
	m, s := expSum(logits)
	for i, v := range logits {
		dst[i] = math.Exp(float64(v)-m) / s
	}
}

// CrossEntropy is -log softmax(logits)[label], computed stably.
func CrossEntropy(logits []float32, label int) float64 {
	return LogSumExp(logits) - float64(logits[label])
}

// Argmax returns the index of the largest value, the lowest on ties.
func Argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
