package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// stopped records a run that ended before finishing: interrupted (ctx
// cancelled; the state is saved for a resume), diverged (a non-finite
// value; nothing is saved, the checkpoints keep the last good state) or
// failed.
func stopped(ctx context.Context, err error, dir string, loop *train.Loop, ckpt *train.Checkpointer, rep *report.Report) error {
	rep.Status, rep.Error = report.StatusFailed, err.Error()
	switch {
	case ctx.Err() != nil:
		rep.Status, rep.Error = report.StatusInterrupted, ""
		if serr := ckpt.SaveLast(loop); serr != nil {
			err = errors.Join(err, serr)
		}
	case errors.Is(err, train.ErrDiverged):
		rep.Status = report.StatusDiverged
		err = fmt.Errorf("%w; %s", err, lastGood(dir))
		if _, serr := os.Stat(rundir.Best(dir)); serr != nil {
			rep.Checkpoint = ""
		}
	}
	rep.Fill(loop)
	if werr := report.Write(dir, rep); werr != nil {
		err = errors.Join(err, werr)
	}
	return err
}

// lastGood says which checkpoint holds a diverged run's last good state.
func lastGood(dir string) string {
	ck, err := checkpoint.Load(rundir.Last(dir))
	if err != nil {
		return "no checkpoint was saved before it"
	}
	return fmt.Sprintf("the last good state is in %s (step %d, %d epochs complete)", rundir.Last(dir), ck.Meta.Step, ck.Meta.Epoch)
}

// finish tests the final checkpoint (best, or last when early stopping
// does not restore the best), draws its confusion matrix and writes the
// finished report.
func finish(ctx context.Context, opts Options, dir string, loop *train.Loop, test *data.Dataset, rep *report.Report) error {
	final := rundir.Best(dir)
	if es := opts.Config.Train.EarlyStopping; es.Enabled && !es.RestoreBest {
		final = rundir.Last(dir)
		rep.Checkpoint = filepath.Join(rundir.CheckpointDir, rundir.LastFile)
	}
	m, _, err := classifier.Load(final)
	if err != nil {
		return fmt.Errorf("reload final checkpoint: %w", err)
	}
	defer m.Close()
	res, err := m.Evaluate(ctx, test, 3)
	if err != nil {
		return fmt.Errorf("test final checkpoint: %w", err)
	}
	rep.Status, rep.Test, rep.TestLoss = report.StatusFinished, res.Report, res.Loss
	if err := plot.Confusion(filepath.Join(dir, rundir.ConfusionFile), m.Classes, res.Report.ConfusionMatrix); err != nil {
		return err
	}
	if err := report.Write(dir, rep); err != nil {
		return err
	}
	if !opts.Quiet {
		if loop.Stopped {
			fmt.Fprintf(opts.Stderr, "early stopping after epoch %d: %s did not improve for %d epochs\n",
				loop.Epoch, loop.Early.Monitor, loop.Early.Patience)
		}
		fmt.Fprintf(opts.Stderr, "test accuracy %.4f (top-3 %.4f) with %s (best epoch %d); %.1fs per epoch\n",
			res.Report.Accuracy, res.Report.TopKAccuracy, rep.Checkpoint, loop.BestEpoch, rep.SecondsPerEpoch)
	}
	return nil
}
