// Package sweep runs many trainings of one base config: a sweep file names
// the base config, the keys fixed for every trial and the swept parameters;
// the package turns it into trials (each a fully resolved, validated
// config), writes a sweep directory that a person could read and submit by
// hand (one config per trial, one sbatch script, one Kubernetes manifest),
// runs the trials locally or submits them to Slurm, and ranks the results.
//
// Every trial is a normal lepton run in DIR/trials/NNN/, trained by the
// lepton binary itself ("lepton train"), so checkpoints, resume, reports
// and "lepton runs" work on it as on any run. The schedulers are used, not
// imitated: Slurm runs the job array, lepton only does the bookkeeping.
package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/regularfile"
)

// Methods, metrics and goals of a sweep file.
var (
	Methods = []string{"grid", "random"}
	Metrics = []string{"val_acc", "val_loss", "test_acc"}
	Goals   = []string{"maximize", "minimize"}
)

// MaxTrials bounds a sweep (trial directories are numbered 000 to 999, and
// Slurm's default MaxArraySize is 1001).
const MaxTrials = 1000

// File is a parsed sweep file.
type File struct {
	// Path is the file it was read from.
	Path string
	// Base is the base config's path, resolved against the sweep file's
	// directory.
	Base string
	// Set lists keys fixed for every trial, in file order.
	Set []Setting
	// Method is grid (every combination of the parameters' values) or
	// random (Trials draws).
	Method string
	// Trials is the number of random trials.
	Trials int
	// Seed drives the random draws.
	Seed uint64
	// Parameters are the swept keys, in file order.
	Parameters []Parameter
	// Metric ranks the trials: val_acc, val_loss or test_acc.
	Metric string
	// Goal is maximize or minimize.
	Goal string
	// Resources are what each trial asks a scheduler for.
	Resources Resources
	// Slurm configures the Slurm job array.
	Slurm Slurm
	// Kubernetes configures the Kubernetes Indexed Job.
	Kubernetes Kubernetes
}

// Setting is one config key with its value in YAML flow syntax ("0.001",
// "[256, 128]", "adam"), as "lepton train --set key=value" takes it.
type Setting struct {
	Key   string
	Value string
}

// String renders the setting as key=value.
func (s Setting) String() string { return s.Key + "=" + s.Value }

// Parameter is one swept config key: a list of values, or a range (random
// sweeps only).
type Parameter struct {
	Key    string
	Values []string // YAML flow syntax, as Setting.Value
	Range  *Range
}

// Range is a numeric interval sampled by random sweeps: uniformly, or
// log-uniformly with Log; rounded to integers with Int.
type Range struct {
	Min, Max float64
	Log, Int bool
}

// Resources are a trial's scheduler resources.
type Resources struct {
	// CPUs per trial (--cpus-per-task, the pod's cpu); the trial trains on
	// that many threads.
	CPUs int
	// Memory per trial in Slurm syntax: a number with an optional K, M, G
	// or T suffix (megabytes without one).
	Memory string
	// Time limit per trial in Slurm syntax (minutes, MM:SS, HH:MM:SS,
	// D-HH[:MM[:SS]]).
	Time string
}

// Slurm configures the job array.
type Slurm struct {
	Partition string // --partition; empty: the cluster's default
	Account   string // --account; empty: the user's default
}

// Kubernetes configures the Indexed Job.
type Kubernetes struct {
	Namespace   string // metadata.namespace; empty: the context's
	VolumeClaim string // PersistentVolumeClaim holding the sweep directory
}

// Defaults of the optional fields.
const (
	defaultCPUs        = 1
	defaultMemory      = "4G"
	defaultTime        = "1:00:00"
	defaultVolumeClaim = "lepton-sweeps"
)

// Load reads and checks a sweep file strictly: unknown keys, wrongly typed
// values, a range with min > max and the like are refused. Problems are
// reported as *config.Error naming the file and the key. The trials are
// not resolved: call Resolve.
func Load(path string) (*File, error) {
	b, err := regularfile.ReadFile(path, config.MaxFileSize)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &config.Error{Msg: "open sweep " + path, Err: err}
	}
	return Parse(b, path)
}

// Parse reads a sweep file's content; path names it in errors and anchors
// a relative base.
func Parse(b []byte, path string) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &config.Error{File: path, Msg: "empty sweep file: want base, method, parameters"}
		}
		return nil, &config.Error{File: path, Msg: "invalid YAML", Err: err}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	p := parser{path: path}
	f := &File{Path: path, Method: "grid"}
	if err := p.fields(root, "", map[string]func(*yaml.Node) error{
		"base":       func(n *yaml.Node) error { return p.str(n, "base", &f.Base) },
		"set":        func(n *yaml.Node) error { return p.settings(n, "", &f.Set) },
		"method":     func(n *yaml.Node) error { return p.str(n, "method", &f.Method) },
		"trials":     func(n *yaml.Node) error { return p.decode(n, "trials", &f.Trials, "want an integer") },
		"seed":       func(n *yaml.Node) error { return p.decode(n, "seed", &f.Seed, "want a non-negative integer") },
		"parameters": func(n *yaml.Node) error { return p.parameters(n, &f.Parameters) },
		"metric":     func(n *yaml.Node) error { return p.str(n, "metric", &f.Metric) },
		"goal":       func(n *yaml.Node) error { return p.str(n, "goal", &f.Goal) },
		"resources": func(n *yaml.Node) error {
			return p.fields(n, "resources", map[string]func(*yaml.Node) error{
				"cpus":   func(n *yaml.Node) error { return p.decode(n, "resources.cpus", &f.Resources.CPUs, "want an integer") },
				"memory": func(n *yaml.Node) error { return p.str(n, "resources.memory", &f.Resources.Memory) },
				"time":   func(n *yaml.Node) error { return p.str(n, "resources.time", &f.Resources.Time) },
			})
		},
		"slurm": func(n *yaml.Node) error {
			return p.fields(n, "slurm", map[string]func(*yaml.Node) error{
				"partition": func(n *yaml.Node) error { return p.str(n, "slurm.partition", &f.Slurm.Partition) },
				"account":   func(n *yaml.Node) error { return p.str(n, "slurm.account", &f.Slurm.Account) },
			})
		},
		"kubernetes": func(n *yaml.Node) error {
			return p.fields(n, "kubernetes", map[string]func(*yaml.Node) error{
				"namespace":    func(n *yaml.Node) error { return p.str(n, "kubernetes.namespace", &f.Kubernetes.Namespace) },
				"volume_claim": func(n *yaml.Node) error { return p.str(n, "kubernetes.volume_claim", &f.Kubernetes.VolumeClaim) },
			})
		},
	}); err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(f.Base) {
		f.Base = filepath.Join(filepath.Dir(path), f.Base)
	}
	return f, nil
}

// check validates the fields together and fills the defaults.
func (f *File) check() error {
	bad := func(key, msg string) error { return &config.Error{File: f.Path, Key: key, Msg: msg} }
	if f.Base == "" {
		return bad("base", "missing: name the base config file (relative to the sweep file)")
	}
	if !slices.Contains(Methods, f.Method) {
		return bad("method", "must be one of "+strings.Join(Methods, ", ")+", got "+quote(f.Method))
	}
	if len(f.Parameters) == 0 {
		return bad("parameters", "missing: name at least one config key to sweep")
	}
	switch f.Method {
	case "grid":
		if f.Trials != 0 {
			return bad("trials", "applies to method random only (a grid has one trial per combination)")
		}
		n := 1
		for _, p := range f.Parameters {
			if p.Range != nil {
				return bad("parameters."+p.Key, "a range needs method random (a grid takes values: [...])")
			}
			if n *= len(p.Values); n > MaxTrials {
				return bad("parameters", fmt.Sprintf("the grid has more than %d combinations", MaxTrials))
			}
		}
	case "random":
		if f.Trials < 1 || f.Trials > MaxTrials {
			return bad("trials", fmt.Sprintf("method random needs trials between 1 and %d, got %d", MaxTrials, f.Trials))
		}
	}
	if f.Metric == "" {
		f.Metric = "val_acc"
	}
	if !slices.Contains(Metrics, f.Metric) {
		return bad("metric", "must be one of "+strings.Join(Metrics, ", ")+", got "+quote(f.Metric))
	}
	if f.Goal == "" {
		f.Goal = "maximize"
		if f.Metric == "val_loss" {
			f.Goal = "minimize"
		}
	}
	if !slices.Contains(Goals, f.Goal) {
		return bad("goal", "must be one of "+strings.Join(Goals, ", ")+", got "+quote(f.Goal))
	}
	r := &f.Resources
	if r.CPUs == 0 {
		r.CPUs = defaultCPUs
	}
	if r.Memory == "" {
		r.Memory = defaultMemory
	}
	if r.Time == "" {
		r.Time = defaultTime
	}
	switch {
	case r.CPUs < 1:
		return bad("resources.cpus", fmt.Sprintf("must be >= 1, got %d", r.CPUs))
	case !memoryRE.MatchString(r.Memory):
		return bad("resources.memory", "want a size like 4G, 512M or 2048 (megabytes), got "+quote(r.Memory))
	case !timeRE.MatchString(r.Time):
		return bad("resources.time", "want a Slurm time like 30, 1:30:00 or 2-00:00:00, got "+quote(r.Time))
	}
	for _, n := range []struct{ key, v string }{{"slurm.partition", f.Slurm.Partition}, {"slurm.account", f.Slurm.Account},
		{"kubernetes.namespace", f.Kubernetes.Namespace}, {"kubernetes.volume_claim", f.Kubernetes.VolumeClaim}} {
		if n.v != "" && !nameRE.MatchString(n.v) {
			return bad(n.key, "want a name of letters, digits, '-', '_' or '.', got "+quote(n.v))
		}
	}
	if f.Kubernetes.VolumeClaim == "" {
		f.Kubernetes.VolumeClaim = defaultVolumeClaim
	}
	return nil
}

var (
	memoryRE = regexp.MustCompile(`^[1-9][0-9]*[KMGT]?$`)
	timeRE   = regexp.MustCompile(`^([0-9]+-)?[0-9]+(:[0-9]{1,2}){0,2}$`)
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Keys lists the swept keys, in file order.
func (f *File) Keys() []string {
	keys := make([]string, len(f.Parameters))
	for i, p := range f.Parameters {
		keys[i] = p.Key
	}
	return keys
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
