package train

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/failpoint"
	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// Progress shows training progress on w: with Interactive, one progress
// bar for the whole run (steps done of all epochs, elapsed and remaining
// time of the run) described by the epoch, the running loss and accuracy
// of the epoch and the images per second; always one summary line per
// epoch.
type Progress struct {
	Hooks
	W           io.Writer
	Interactive bool
	// Throttle is the least time between two redraws of the bar; 0 means
	// 100 ms, a negative value redraws at every step.
	Throttle time.Duration

	bar       *progressbar.ProgressBar
	start     time.Time
	fromStep  int64 // the loop's GlobalStep when the bar started
	images    int   // images trained since the bar started
	lastSeen  int   // the loop's images seen in the epoch, at the last step
	lastEpoch int
}

// TrainStart implements Listener.
func (p *Progress) TrainStart(l *Loop) error {
	if !p.Interactive {
		return nil
	}
	_, perEpoch := epochSteps(l.Train.Len(), l.Config.Train.BatchSize, l.Model.Spec.BatchNorm)
	total := int64(perEpoch) * int64(l.Config.Train.Epochs)
	p.fromStep, p.start = l.GlobalStep, time.Now()
	p.lastSeen, p.lastEpoch = l.seen, l.Epoch+1
	p.bar = progressbar.NewOptions64(max(total-l.GlobalStep, 1),
		progressbar.OptionSetWriter(p.W),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", l.Epoch+1, l.Config.Train.Epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(p.throttle()),
		progressbar.OptionClearOnFinish(),
	)
	return nil
}

func (p *Progress) throttle() time.Duration {
	switch {
	case p.Throttle < 0:
		return 0
	case p.Throttle == 0:
		return 100 * time.Millisecond
	}
	return p.Throttle
}

// Step implements Listener.
func (p *Progress) Step(l *Loop, ev StepEvent) error {
	if p.bar == nil {
		return nil
	}
	if ev.Epoch != p.lastEpoch {
		p.lastSeen, p.lastEpoch = 0, ev.Epoch
	}
	p.images += l.seen - p.lastSeen
	p.lastSeen = l.seen
	acc := 0.0
	if l.seen > 0 {
		acc = float64(l.correct) / float64(l.seen)
	}
	rate := float64(p.images) / max(time.Since(p.start).Seconds(), 1e-9)
	p.bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  acc %.4f  %.0f img/s",
		ev.Epoch, l.Config.Train.Epochs, ev.Loss, acc, rate))
	return p.bar.Set64(ev.GlobalStep - p.fromStep)
}

// EpochEnd implements Listener.
func (p *Progress) EpochEnd(l *Loop, ev EpochEvent) error {
	if p.bar != nil {
		p.bar.Clear() // the summary line goes where the bar was; it redraws on the next step
	}
	m := ev.Metrics
	mark := ""
	if ev.Best {
		mark = "  *best"
	}
	_, err := fmt.Fprintf(p.W, "epoch %d/%d  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  lr %.4g  %.1fs%s\n",
		m.Epoch, l.Config.Train.Epochs, m.TrainLoss, m.TrainAcc, m.ValLoss, m.ValAcc, m.LR, m.Seconds, mark)
	return err
}

// TrainEnd implements Listener.
func (p *Progress) TrainEnd(*Loop, error) error {
	if p.bar != nil {
		p.bar.Clear()
		p.bar.Exit()
		p.bar = nil
	}
	return nil
}

// Checkpointer writes the run's last checkpoint (with the optimizer state,
// resumable) after every epoch and every Every optimizer steps, and its best
// checkpoint (weights only) whenever an epoch is the best so far.
//
// At an epoch's end last is written before best, and last's training state
// records the best epoch: a crash between the two leaves a best checkpoint
// older than last says, which a resume rebuilds from last (whose weights
// are that epoch's) with SaveBest.
type Checkpointer struct {
	Hooks
	Dir   string // run directory
	Every int    // also save last every Every steps; 0: epoch ends only
}

// Step implements Listener.
func (c *Checkpointer) Step(l *Loop, ev StepEvent) error {
	if c.Every <= 0 || ev.GlobalStep%int64(c.Every) != 0 || ev.Step == ev.Steps {
		return nil // the epoch end saves the last step of an epoch
	}
	return c.SaveLast(l)
}

// EpochEnd implements Listener.
func (c *Checkpointer) EpochEnd(l *Loop, ev EpochEvent) error {
	ck, err := Snapshot(l)
	if err != nil {
		return err
	}
	if err := checkpoint.Save(rundir.Last(c.Dir), ck); err != nil {
		return fmt.Errorf("save last checkpoint: %w", err)
	}
	failpoint.Hit(failpoint.CheckpointLastSaved)
	if ev.Best {
		return saveBest(c.Dir, ck)
	}
	return nil
}

// SaveLast writes the loop's current state to checkpoints/last.safetensors.
func (c *Checkpointer) SaveLast(l *Loop) error {
	ck, err := Snapshot(l)
	if err != nil {
		return err
	}
	if err := checkpoint.Save(rundir.Last(c.Dir), ck); err != nil {
		return fmt.Errorf("save last checkpoint: %w", err)
	}
	return nil
}

// SaveBest writes the loop's current weights to checkpoints/best.safetensors,
// as EpochEnd does for a best epoch. A resume calls it to rebuild a best
// checkpoint that a crash kept from being written; the loop must be at the
// end of its best epoch.
func (c *Checkpointer) SaveBest(l *Loop) error {
	if l.EpochStep != 0 || l.BestEpoch != l.Epoch {
		return fmt.Errorf("save best checkpoint: the loop is at epoch %d step %d, not at the end of its best epoch %d", l.Epoch, l.EpochStep, l.BestEpoch)
	}
	ck, err := Snapshot(l)
	if err != nil {
		return err
	}
	return saveBest(c.Dir, ck)
}

func saveBest(dir string, ck *checkpoint.Checkpoint) error {
	best := *ck
	best.Tensors = weightsOnly(ck.Tensors)
	if err := checkpoint.Save(rundir.Best(dir), &best); err != nil {
		return fmt.Errorf("save best checkpoint: %w", err)
	}
	return nil
}

func weightsOnly(ts []checkpoint.Tensor) []checkpoint.Tensor {
	var out []checkpoint.Tensor
	for _, t := range ts {
		if !isOptimTensor(t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// runFile is a path inside the run directory.
func runFile(dir, name string) string { return filepath.Join(dir, name) }

// Curves redraws the run's learning curves into Path (curves.png) after
// every epoch, titled with the run (Path's directory), the config and the
// best epoch. Runs of at most StepEpochs epochs also get the loss and
// learning rate of every step, recorded here and kept in steps.csv beside
// Path, so that a resumed run and "lepton report" draw the same figure.
type Curves struct {
	Hooks
	Path string

	record   bool
	steps    []StepRecord
	epoch    int     // epoch of the last step seen
	lossSum  float64 // the loop's running loss sum and images at the last step
	lossSeen int
}

// stepsPath is where the step records go.
func (c *Curves) stepsPath() string { return runFile(filepath.Dir(c.Path), rundir.StepsFile) }

// TrainStart implements Listener. A resumed run keeps the records of the
// steps its checkpoint had done.
func (c *Curves) TrainStart(l *Loop) error {
	c.record = l.Config.Train.Epochs <= StepEpochs
	if !c.record {
		return nil
	}
	c.epoch, c.lossSum, c.lossSeen = l.Epoch+1, l.lossSum, l.seen
	if l.GlobalStep == 0 {
		return nil
	}
	old, err := ReadSteps(c.stepsPath())
	if err != nil {
		return nil // the figure then starts here; metrics.csv has the epochs
	}
	for _, r := range old {
		if r.Step <= l.GlobalStep {
			c.steps = append(c.steps, r)
		}
	}
	return nil
}

// Step implements Listener: the batch's loss is the growth of the epoch's
// running loss sum.
func (c *Curves) Step(l *Loop, ev StepEvent) error {
	if !c.record {
		return nil
	}
	if ev.Epoch != c.epoch {
		c.epoch, c.lossSum, c.lossSeen = ev.Epoch, 0, 0
	}
	loss := math.NaN()
	if n := l.seen - c.lossSeen; n > 0 {
		loss = (l.lossSum - c.lossSum) / float64(n)
	}
	c.lossSum, c.lossSeen = l.lossSum, l.seen
	c.steps = append(c.steps, StepRecord{Step: ev.GlobalStep, Epoch: ev.Epoch, EpochStep: ev.Step, EpochSteps: ev.Steps, Loss: loss, LR: l.lastLR})
	return nil
}

// EpochEnd implements Listener.
func (c *Curves) EpochEnd(l *Loop, _ EpochEvent) error {
	if err := c.saveSteps(); err != nil {
		return err
	}
	bm, _ := l.Best()
	title := CurvesTitle(filepath.Base(filepath.Dir(c.Path)), l.Config.Name, l.BestEpoch, l.monitor(), metricOf(bm, l.monitor()))
	return plot.Curves(c.Path, PlotHistory(l.History), plot.CurvesOptions{Title: title, Steps: PlotSteps(c.steps)})
}

// TrainEnd implements Listener: an interrupted run keeps its steps so far.
func (c *Curves) TrainEnd(*Loop, error) error { return c.saveSteps() }

func (c *Curves) saveSteps() error {
	if !c.record {
		return nil
	}
	return atomicfile.Write(c.stepsPath(), 0o644, func(w io.Writer) error { return WriteSteps(w, c.steps) })
}
