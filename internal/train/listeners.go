package train

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/failpoint"
	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// Progress shows training progress on w: with Interactive, a progress bar
// per epoch with ETA and running loss; always one summary line per epoch.
type Progress struct {
	Hooks
	W           io.Writer
	Interactive bool

	bar *progressbar.ProgressBar
}

// Step implements Listener.
func (p *Progress) Step(l *Loop, ev StepEvent) error {
	if !p.Interactive {
		return nil
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(ev.Steps,
			progressbar.OptionSetWriter(p.W),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", ev.Epoch, l.Config.Train.Epochs)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", ev.Epoch, l.Config.Train.Epochs, ev.Loss))
	return p.bar.Set(ev.Step)
}

// EpochEnd implements Listener.
func (p *Progress) EpochEnd(l *Loop, ev EpochEvent) error {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
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
		p.bar.Exit()
		p.bar = nil
		fmt.Fprintln(p.W)
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

// Curves redraws the run's learning curves (loss, accuracy, learning rate
// per epoch) into Path after every epoch.
type Curves struct {
	Hooks
	Path string
}

// EpochEnd implements Listener.
func (c *Curves) EpochEnd(l *Loop, _ EpochEvent) error {
	return plot.Curves(c.Path, PlotHistory(l.History))
}
