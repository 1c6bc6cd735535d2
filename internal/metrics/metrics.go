// Package metrics computes classification metrics (accuracy, top-k
// accuracy, per-class precision/recall/F1, macro and weighted averages and
// the confusion matrix) from model scores, and writes them as text, JSON
// or CSV.
//
// Divisions by zero (a class that is never predicted, or never present)
// yield 0, as scikit-learn does by default.
package metrics

import "fmt"

// ClassMetrics holds the metrics of one class.
type ClassMetrics struct {
	// Name is the class name.
	Name string `json:"name"`
	// Precision is TP / (TP + FP), or 0 if the class was never predicted.
	Precision float64 `json:"precision"`
	// Recall is TP / (TP + FN), or 0 if the class never occurred.
	Recall float64 `json:"recall"`
	// F1 is the harmonic mean of precision and recall, 2TP / (2TP+FP+FN),
	// or 0 when both are 0.
	F1 float64 `json:"f1"`
	// Support is the number of samples whose true label is this class.
	Support int `json:"support"`
}

// Average holds metrics averaged over classes.
type Average struct {
	// Precision is the averaged precision.
	Precision float64 `json:"precision"`
	// Recall is the averaged recall.
	Recall float64 `json:"recall"`
	// F1 is the averaged F1 score.
	F1 float64 `json:"f1"`
	// Support is the total number of samples.
	Support int `json:"support"`
}

// Report is the outcome of an evaluation.
type Report struct {
	// Accuracy is the fraction of samples whose top-scoring class is the
	// true label.
	Accuracy float64 `json:"accuracy"`
	// TopK is the k of TopKAccuracy.
	TopK int `json:"top_k"`
	// TopKAccuracy is the fraction of samples whose true label is among
	// the k highest scores.
	TopKAccuracy float64 `json:"top_k_accuracy"`
	// Count is the number of samples.
	Count int `json:"count"`
	// Classes holds per-class metrics in class index order.
	Classes []ClassMetrics `json:"classes"`
	// MacroAvg is the unweighted mean over the classes that occur among the
	// labels or the predictions, as scikit-learn's classification_report
	// averages (a class absent from both has no defined metrics and is
	// left out; Classes still lists it, with zeros).
	MacroAvg Average `json:"macro_avg"`
	// WeightedAvg is the mean over classes weighted by support.
	WeightedAvg Average `json:"weighted_avg"`
	// ConfusionMatrix counts samples by [true][predicted] class.
	ConfusionMatrix [][]int `json:"confusion_matrix"`
}

// Accumulator collects predictions batch by batch. The zero value is not
// usable; create one with NewAccumulator. It is not safe for concurrent
// use.
type Accumulator struct {
	classes   []string
	k         int
	confusion [][]int
	count     int
	topKHits  int
	err       error
}

// NewAccumulator returns an Accumulator for the given class names that
// also measures top-k accuracy. k is clamped to [1, len(classes)] (and to
// 1 when there are no classes).
func NewAccumulator(classes []string, k int) *Accumulator {
	n := len(classes)
	k = min(max(k, 1), max(n, 1))
	confusion := make([][]int, n)
	for i := range confusion {
		confusion[i] = make([]int, n)
	}
	return &Accumulator{
		classes:   append([]string(nil), classes...),
		k:         k,
		confusion: confusion,
	}
}

// Add records one sample with true class label and one score per class
// (logits or probabilities; only their order matters). The prediction is
// the highest score, the lowest index winning ties; NaN ranks below every
// number. The sample is a top-k hit when fewer than k classes rank above
// the label under the same ordering.
//
// A label out of range or a scores slice of the wrong length is not
// recorded; the first such mistake is reported by Err.
func (a *Accumulator) Add(label int, scores []float32) {
	n := len(a.classes)
	if len(scores) != n {
		a.fail(fmt.Errorf("add sample %d: got %d scores for %d classes", a.count, len(scores), n))
		return
	}
	if label < 0 || label >= n {
		a.fail(fmt.Errorf("add sample %d: label %d out of range [0, %d)", a.count, label, n))
		return
	}
	pred := 0
	for j := 1; j < n; j++ {
		if above(scores[j], scores[pred]) {
			pred = j
		}
	}
	rank := 0
	for j, s := range scores {
		if above(s, scores[label]) || (j < label && !above(scores[label], s)) {
			rank++
		}
	}
	a.confusion[label][pred]++
	a.count++
	if rank < a.k {
		a.topKHits++
	}
}

// above reports whether score a ranks strictly above b, NaN lowest.
func above(a, b float32) bool {
	if a != a { // NaN
		return false
	}
	return a > b || b != b
}

func (a *Accumulator) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

// Err returns the first invalid Add call, or nil.
func (a *Accumulator) Err() error { return a.err }

// Report computes the metrics of the samples added so far. It may be
// called at any time; the Accumulator keeps accumulating afterwards.
func (a *Accumulator) Report() Report {
	n := len(a.classes)
	r := Report{
		TopK:            a.k,
		Count:           a.count,
		Classes:         make([]ClassMetrics, n),
		ConfusionMatrix: make([][]int, n),
		Accuracy:        ratio(a.trace(), a.count),
		TopKAccuracy:    ratio(a.topKHits, a.count),
	}
	predicted := make([]int, n)
	for i, row := range a.confusion {
		r.ConfusionMatrix[i] = append([]int(nil), row...)
		for j, c := range row {
			predicted[j] += c
		}
	}
	present := 0 // classes among the labels or the predictions
	for i, name := range a.classes {
		tp := a.confusion[i][i]
		support := 0
		for _, c := range a.confusion[i] {
			support += c
		}
		fp, fn := predicted[i]-tp, support-tp
		cm := ClassMetrics{
			Name:      name,
			Precision: ratio(tp, tp+fp),
			Recall:    ratio(tp, tp+fn),
			F1:        ratio(2*tp, 2*tp+fp+fn),
			Support:   support,
		}
		r.Classes[i] = cm
		if support == 0 && predicted[i] == 0 {
			continue
		}
		present++
		r.MacroAvg.Precision += cm.Precision
		r.MacroAvg.Recall += cm.Recall
		r.MacroAvg.F1 += cm.F1
		w := float64(support)
		r.WeightedAvg.Precision += w * cm.Precision
		r.WeightedAvg.Recall += w * cm.Recall
		r.WeightedAvg.F1 += w * cm.F1
	}
	r.MacroAvg = scale(r.MacroAvg, present)
	r.WeightedAvg = scale(r.WeightedAvg, a.count)
	r.MacroAvg.Support, r.WeightedAvg.Support = a.count, a.count
	return r
}

func (a *Accumulator) trace() int {
	t := 0
	for i := range a.confusion {
		t += a.confusion[i][i]
	}
	return t
}

// ratio returns num/den, or 0 when den is 0.
func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// scale divides the sums in avg by n, giving 0 when n is 0.
func scale(avg Average, n int) Average {
	if n == 0 {
		return Average{}
	}
	d := float64(n)
	avg.Precision /= d
	avg.Recall /= d
	avg.F1 /= d
	return avg
}
