package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lepton-cli/lepton/internal/plot"
)

// Executors lists where a sweep's trials run.
var Executors = []string{"local", "slurm", "kubernetes"}

// Options configure Run ("lepton sweep SWEEP.yaml --out DIR").
type Options struct {
	// File is the sweep file; Out the sweep directory.
	File, Out string
	// Executor is local (default), slurm or kubernetes.
	Executor string
	// Parallel is the most trials running at once; 0: 1 locally, all of
	// them on a scheduler.
	Parallel int
	// EmitOnly writes the sbatch script or manifest without submitting.
	EmitOnly bool
	// Image is the container image of the Kubernetes manifest.
	Image string
	// Data is the data directory passed to every trial; empty: each trial
	// resolves its own (data.dir, LEPTON_DATA_DIR, the cache).
	Data string
	// Lepton is the lepton binary that trains the trials.
	Lepton string
	// CPUs are this machine's cores, shared by local trials.
	CPUs int
	// Environ is the environment (os.Environ()).
	Environ []string
	// Stdout gets data (the local results table, a job id, a file path);
	// Stderr progress and messages.
	Stdout, Stderr io.Writer
}

// Run loads the sweep file, resolves and validates every trial (one bad
// trial refuses the sweep before anything is written), prepares the sweep
// directory and runs the trials with the executor: locally (then prints
// the ranked results and draws sweep.png), by submitting the sbatch script
// to Slurm (printing the job id), or by writing the sbatch script or the
// Kubernetes manifest only (printing its path).
func Run(ctx context.Context, opts Options) error {
	exe := cmp.Or(opts.Executor, "local")
	switch {
	case !slices.Contains(Executors, exe):
		return fmt.Errorf("--executor %q: want one of %s", exe, strings.Join(Executors, ", "))
	case exe == "local" && opts.EmitOnly:
		return fmt.Errorf("--emit-only writes a scheduler's files: use it with --executor slurm or kubernetes")
	case exe == "kubernetes" && !opts.EmitOnly:
		return fmt.Errorf("--executor kubernetes writes the manifest for kubectl: add --emit-only")
	case opts.Parallel < 0:
		return fmt.Errorf("--parallel %d: want at least 1", opts.Parallel)
	}
	f, err := Load(opts.File)
	if err != nil {
		return err
	}
	trials, err := f.Resolve()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(opts.Out)
	if err != nil {
		return fmt.Errorf("sweep directory %s: %w", opts.Out, err)
	}
	if ignored := ConfigEnv(opts.Environ); len(ignored) > 0 {
		fmt.Fprintf(opts.Stderr, "lepton: warning: ignoring %s: a sweep's trials take their settings from the sweep file\n", strings.Join(ignored, ", "))
	}
	if err := Prepare(dir, f, trials); err != nil {
		return err
	}
	parallel := opts.Parallel
	if parallel == 0 {
		parallel = len(trials)
		if exe == "local" {
			parallel = 1
		}
	}
	switch exe {
	case "slurm":
		path, err := WriteScript(dir, f, len(trials), ScriptOptions{Lepton: opts.Lepton, Parallel: parallel, Data: opts.Data})
		if err != nil {
			return err
		}
		if opts.EmitOnly {
			fmt.Fprintf(opts.Stderr, "wrote %s (%d trials); submit it with: sbatch --parsable %s\n", path, len(trials), path)
			_, err = fmt.Fprintln(opts.Stdout, path)
			return err
		}
		id, err := Submit(ctx, dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.Stderr, "submitted job array %s: %d trials, at most %d at once; follow it with: lepton sweep status %s\n", id, len(trials), min(parallel, len(trials)), dir)
		_, err = fmt.Fprintln(opts.Stdout, id)
		return err
	case "kubernetes":
		path, err := WriteManifest(dir, f, len(trials), ManifestOptions{Image: opts.Image, Parallel: parallel, Data: opts.Data})
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.Stderr, "wrote %s (%d trials); apply it with: kubectl apply -f %s\n", path, len(trials), path)
		_, err = fmt.Fprintln(opts.Stdout, path)
		return err
	}
	_, runErr := RunLocal(ctx, dir, trials, LocalOptions{
		Lepton: opts.Lepton, Parallel: parallel, CPUs: opts.CPUs, Data: opts.Data, Env: opts.Environ, Stderr: opts.Stderr,
	})
	f2, results, err := Results(dir)
	if err != nil {
		return errors.Join(runErr, err)
	}
	if err := WriteResults(opts.Stdout, f2.Keys(), results, "text"); err != nil {
		return errors.Join(runErr, err)
	}
	if path, err := Plot(dir, f2, results); err == nil {
		fmt.Fprintf(opts.Stderr, "figure: %s\n", path)
	} else if !errors.Is(err, plot.ErrNoData) {
		return errors.Join(runErr, err)
	}
	return runErr
}
