package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/regularfile"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// Files of a sweep directory.
const (
	SweepFile    = "sweep.yaml"     // the sweep, base made absolute
	TrialsDir    = "trials"         // trials/000/, trials/001/, ...: one run directory each
	ScriptFile   = "sweep.sbatch"   // the Slurm job array
	ManifestFile = "sweep-job.yaml" // the Kubernetes Indexed Job
	JobFile      = "slurm-job"      // the submitted array's job id
	PlotFile     = "sweep.png"      // the metric against each swept parameter
	LogFile      = "train.log"      // a local trial's output, in its run directory
)

// TrialDir is the run directory of trial i.
func TrialDir(dir string, i int) string {
	return filepath.Join(dir, TrialsDir, fmt.Sprintf("%03d", i))
}

// ErrOtherSweep is returned when a sweep directory holds a different sweep.
var ErrOtherSweep = errors.New("the sweep directory holds another sweep (use a new --out)")

// Prepare writes the sweep directory: dir/sweep.yaml and one
// trials/NNN/config.yaml per trial. A directory holding the same sweep (a
// re-run, or a random sweep grown by more trials) keeps its trials' configs
// and runs; one whose trial configs differ from these trials is refused
// with ErrOtherSweep (wrapping rundir.ErrExists), naming the trial and the
// keys; a non-empty directory without sweep.yaml is refused likewise.
func Prepare(dir string, f *File, trials []Trial) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read sweep directory %s: %w", dir, err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, SweepFile)); err != nil {
			return fmt.Errorf("%s is not empty and holds no %s: %w", dir, SweepFile, rundir.ErrExists)
		}
	}
	var missing []Trial
	for _, t := range trials {
		path := filepath.Join(TrialDir(dir, t.Index), rundir.ConfigFile)
		b, err := regularfile.ReadFile(path, config.MaxFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, t)
			continue
		}
		if err != nil {
			return fmt.Errorf("read trial config: %w", err)
		}
		had, err := config.Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if diffs := trialDiffs(had, t.Config); len(diffs) > 0 {
			return fmt.Errorf("%s: trial %s of %s differs (%s): %w: %w", path, t.Name(), f.Path,
				strings.Join(diffs, "; "), ErrOtherSweep, rundir.ErrExists)
		}
	}
	for _, t := range missing {
		y, err := t.Config.YAML()
		if err != nil {
			return err
		}
		td := TrialDir(dir, t.Index)
		if err := os.MkdirAll(td, 0o755); err != nil {
			return fmt.Errorf("create trial directory: %w", err)
		}
		if err := atomicfile.WriteFile(filepath.Join(td, rundir.ConfigFile), y, 0o644); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(filepath.Join(dir, SweepFile), f.YAML(len(trials)), 0o644)
}

// trialDiffs lists the keys whose values differ between a trial config on
// disk and the one resolved now. train.threads is left out: the executor
// sets it when the trial runs; so are the keys a run fills from its data.
func trialDiffs(had, now *config.Config) []string {
	var out []string
	for _, d := range config.Diff(had, now) {
		if d.Key != "train.threads" && !config.FollowsData(d) {
			out = append(out, fmt.Sprintf("%s: %s there, %s now", d.Key, d.A, d.B))
		}
	}
	return out
}

// trialDirRE matches a trial directory's name.
var trialDirRE = regexp.MustCompile(`^[0-9]{3,}$`)

// ListTrials returns the indices of the trial directories under
// dir/trials, in order.
func ListTrials(dir string) ([]int, error) {
	entries, err := os.ReadDir(filepath.Join(dir, TrialsDir))
	if err != nil {
		return nil, fmt.Errorf("list trials of %s: %w", dir, err)
	}
	var out []int
	for _, e := range entries {
		if e.IsDir() && trialDirRE.MatchString(e.Name()) {
			i, _ := strconv.Atoi(e.Name())
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Open reads the sweep in a sweep directory (its sweep.yaml).
func Open(dir string) (*File, error) {
	path := filepath.Join(dir, SweepFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s is not a sweep directory (no %s): %w", dir, SweepFile, err)
	}
	return Load(path)
}

// YAML renders the sweep as a sweep file that reads back to the same File
// (with Base absolute), headed by a comment naming its n trials.
func (f *File) YAML(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# A lepton sweep of %d trials, in %s/000 ... %s/%03d (each a run directory).\n", n, TrialsDir, TrialsDir, max(0, n-1))
	fmt.Fprintf(&b, "# Written by \"lepton sweep\" from %s.\n", f.Path)
	fmt.Fprintf(&b, "base: %s\n", yamlString(f.Base))
	if len(f.Set) > 0 {
		b.WriteString("set:\n")
		for _, s := range f.Set {
			fmt.Fprintf(&b, "  %s: %s\n", s.Key, s.Value)
		}
	}
	fmt.Fprintf(&b, "method: %s\n", f.Method)
	if f.Method == "random" {
		fmt.Fprintf(&b, "trials: %d\n", f.Trials)
	}
	fmt.Fprintf(&b, "seed: %d\nparameters:\n", f.Seed)
	for _, p := range f.Parameters {
		if p.Range == nil {
			fmt.Fprintf(&b, "  %s: {values: [%s]}\n", p.Key, strings.Join(p.Values, ", "))
			continue
		}
		r := p.Range
		fmt.Fprintf(&b, "  %s: {min: %s, max: %s, log: %t, int: %t}\n", p.Key, num(r.Min), num(r.Max), r.Log, r.Int)
	}
	fmt.Fprintf(&b, "metric: %s\ngoal: %s\n", f.Metric, f.Goal)
	fmt.Fprintf(&b, "resources: {cpus: %d, memory: %s, time: %s}\n", f.Resources.CPUs, yamlString(f.Resources.Memory), yamlString(f.Resources.Time))
	if f.Slurm != (Slurm{}) {
		b.WriteString("slurm:\n")
		if f.Slurm.Partition != "" {
			fmt.Fprintf(&b, "  partition: %s\n", yamlString(f.Slurm.Partition))
		}
		if f.Slurm.Account != "" {
			fmt.Fprintf(&b, "  account: %s\n", yamlString(f.Slurm.Account))
		}
	}
	b.WriteString("kubernetes:\n")
	if f.Kubernetes.Namespace != "" {
		fmt.Fprintf(&b, "  namespace: %s\n", yamlString(f.Kubernetes.Namespace))
	}
	fmt.Fprintf(&b, "  volume_claim: %s\n", yamlString(f.Kubernetes.VolumeClaim))
	return b.Bytes()
}

// yamlString renders s as a YAML string scalar, quoted when needed.
func yamlString(s string) string {
	n := yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	out, err := yaml.Marshal(&n)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSpace(string(out))
}

// num renders a float exactly, in YAML syntax.
func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
