package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/regularfile"
)

// ScriptOptions configure the Slurm job array.
type ScriptOptions struct {
	// Lepton is the lepton binary each task runs (an absolute path that
	// the compute nodes see).
	Lepton string
	// Parallel is the most tasks running at once (the array's %P).
	Parallel int
	// Data is passed as --data to every trial; empty: each trial resolves
	// its data as "lepton train" does.
	Data string
}

// Script renders the sbatch script of the sweep in dir (an absolute path)
// with n trials: a job array with one task per trial.
func Script(dir string, f *File, n int, opts ScriptOptions) ([]byte, error) {
	if strings.ContainsAny(dir+opts.Lepton+opts.Data, " \t\n\"'\\$`") {
		return nil, fmt.Errorf("sbatch script: the paths %q, %q and %q must not hold spaces, quotes, '\\', '$' or '`'", dir, opts.Lepton, opts.Data)
	}
	var unset []string
	for _, k := range config.Reference() {
		if k.Env != "" {
			unset = append(unset, k.Env)
		}
	}
	sort.Strings(unset)
	var b bytes.Buffer
	err := scriptTemplate.Execute(&b, map[string]any{
		"Dir": dir, "File": f, "N": n, "Last": n - 1, "Parallel": max(1, min(opts.Parallel, n)),
		"Lepton": opts.Lepton, "Data": opts.Data, "Name": jobName(dir),
		"Unset": wrap(unset, "unset ", 72),
	})
	if err != nil {
		return nil, fmt.Errorf("render sbatch script: %w", err)
	}
	return b.Bytes(), nil
}

// wrap joins words into lines of at most width characters, each starting
// with prefix.
func wrap(words []string, prefix string, width int) string {
	var lines []string
	line := prefix
	for _, w := range words {
		if len(line)+len(w) > width && line != prefix {
			lines = append(lines, strings.TrimSpace(line))
			line = prefix
		}
		line += w + " "
	}
	lines = append(lines, strings.TrimRight(line, " "))
	return strings.Join(lines, "\n")
}

// jobName is the job name of the sweep in dir: "lepton-" and the
// directory's base name.
func jobName(dir string) string {
	return "lepton-" + filepath.Base(dir)
}

var scriptTemplate = template.Must(template.New("sbatch").Parse(`#!/bin/bash
# lepton sweep: {{.N}} trials of {{.File.Path}} as one Slurm job array.
# Written by "lepton sweep --executor slurm"; submit it by hand with
#   sbatch --parsable {{.Dir}}/sweep.sbatch
# Task i trains trial i in {{.Dir}}/trials/<i as 3 digits>, a lepton run
# directory holding its config.yaml. A finished trial is skipped, one with a
# checkpoint resumes (lepton train --resume), the others start.
#
# Pre-emption: Slurm requeues a task that is pre-empted or requeued by hand
# (scontrol requeue); a task warned of its time limit (--signal=B:TERM@60)
# asks to be requeued itself. Either way lepton gets SIGTERM first, saves a
# resumable checkpoint and exits, and the requeued task resumes from it.
#SBATCH --job-name={{.Name}}
#SBATCH --array=0-{{.Last}}%{{.Parallel}}
#SBATCH --cpus-per-task={{.File.Resources.CPUs}}
#SBATCH --mem={{.File.Resources.Memory}}
#SBATCH --time={{.File.Resources.Time}}
{{- if .File.Slurm.Partition}}
#SBATCH --partition={{.File.Slurm.Partition}}
{{- end}}
{{- if .File.Slurm.Account}}
#SBATCH --account={{.File.Slurm.Account}}
{{- end}}
#SBATCH --requeue
#SBATCH --signal=B:TERM@60
#SBATCH --open-mode=append
#SBATCH --output={{.Dir}}/trials/%3a/slurm-%A_%a.log
set -u
LEPTON={{.Lepton}}
SWEEP={{.Dir}}
DATA={{.Data}}
TRIAL=$(printf '%s/trials/%03d' "$SWEEP" "$SLURM_ARRAY_TASK_ID")

# The trial's config.yaml is complete: keep the submitting shell's LEPTON_*
# config overrides from changing it.
{{.Unset}}

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on $(hostname), restart ${SLURM_RESTART_COUNT:-0}"
if grep -qs '"status": "finished"' "$TRIAL/report.json"; then
	echo "trial $TRIAL already finished"
	exit 0
fi
if [ -f "$TRIAL/checkpoints/last.safetensors" ]; then
	set -- train --resume "$TRIAL"
else
	set -- train --config "$TRIAL/config.yaml" --out "$TRIAL" --force
fi
if [ -n "$DATA" ]; then set -- "$@" --data "$DATA"; fi
set -- "$@" --threads "${SLURM_CPUS_PER_TASK:-1}"
echo "lepton $*"

# SIGTERM: on requeue, pre-emption and scancel Slurm signals every process
# of the job, so lepton saves its checkpoint and exits by itself. The
# time-limit warning reaches this shell only: then pass it on and requeue
# the task. A second SIGTERM would make lepton exit without saving, so it
# is sent only when lepton is still running TERM_GRACE seconds later.
TERM_GRACE=10
trapped= requeue=
on_term() {
	trapped=1
	for _ in $(seq $((2 * TERM_GRACE))); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.5
	done
	echo "time limit near: stopping lepton, then requeueing the task"
	requeue=1
	kill -TERM "$pid" 2>/dev/null || true
}
trap on_term TERM
"$LEPTON" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
# wait returns early when the trap runs: wait again for lepton's own status.
while [ -n "$trapped" ]; do
	trapped=
	rc=0
	wait "$pid" || rc=$?
done
echo "lepton exited with status $rc"
if [ -n "$requeue" ] && grep -qs '"status": "interrupted"' "$TRIAL/report.json"; then
	scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
fi
exit "$rc"
`))

// WriteScript writes dir/sweep.sbatch and returns its path.
func WriteScript(dir string, f *File, n int, opts ScriptOptions) (string, error) {
	b, err := Script(dir, f, n, opts)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, ScriptFile)
	return path, atomicfile.WriteFile(path, b, 0o755)
}

// ErrNoSlurm is returned when a Slurm command is not installed.
var ErrNoSlurm = errors.New("Slurm command not found")

// slurm runs a Slurm command and returns its stdout; a failure's error
// holds its stderr.
func slurm(ctx context.Context, name string, args ...string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w (is Slurm installed here?)", name, ErrNoSlurm)
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Submit submits dir/sweep.sbatch with "sbatch --parsable", records the
// job id in dir/slurm-job and returns it. A recorded job that Slurm still
// queues is refused: two arrays must not train the same trials.
func Submit(ctx context.Context, dir string) (string, error) {
	if id, err := JobID(dir); err == nil {
		if states, err := Queue(ctx, id); err == nil && len(states) > 0 {
			return "", fmt.Errorf("job %s of this sweep is still queued or running (lepton sweep status %s; lepton sweep cancel %s)", id, dir, dir)
		}
	}
	out, err := slurm(ctx, "sbatch", "--parsable", filepath.Join(dir, ScriptFile))
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // "id;cluster" on multi-cluster setups
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("sbatch --parsable printed %q, want a job id", strings.TrimSpace(out))
	}
	return id, atomicfile.WriteFile(filepath.Join(dir, JobFile), []byte(id+"\n"), 0o644)
}

// JobID returns the job id recorded by Submit.
func JobID(dir string) (string, error) {
	b, err := regularfile.ReadFile(filepath.Join(dir, JobFile), 1<<10)
	if err != nil {
		return "", fmt.Errorf("%s was not submitted to Slurm (no %s): %w", dir, JobFile, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Queue returns the state of each task of job id that Slurm still knows
// (squeue, one line per array task; sacct adds finished tasks when
// accounting is on), by array index.
func Queue(ctx context.Context, id string) (map[int]string, error) {
	out, err := slurm(ctx, "squeue", "--noheader", "--array", "--jobs", id, "--format", "%K %T %r")
	if err != nil {
		if strings.Contains(err.Error(), "Invalid job id") {
			return map[int]string{}, nil // long gone
		}
		return nil, err
	}
	states := map[int]string{}
	if acct, err := slurm(ctx, "sacct", "--noheader", "--allocations", "--parsable2", "--jobs", id, "--format", "JobID,State"); err == nil {
		for _, line := range strings.Split(acct, "\n") {
			job, state, ok := strings.Cut(strings.TrimSpace(line), "|")
			_, task, isTask := strings.Cut(job, "_")
			if i, err := strconv.Atoi(task); ok && isTask && err == nil {
				states[i] = strings.Fields(state + " ")[0]
			}
		}
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		i, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		states[i] = f[1]
		if f[1] == "PENDING" && len(f) > 2 && f[2] != "None" {
			states[i] += " (" + strings.Join(f[2:], " ") + ")"
		}
	}
	return states, nil
}

// Cancel cancels the sweep's job array with scancel and returns its id.
// Slurm sends SIGTERM to the running tasks, which save resumable
// checkpoints.
func Cancel(ctx context.Context, dir string) (string, error) {
	id, err := JobID(dir)
	if err != nil {
		return "", err
	}
	if _, err := slurm(ctx, "scancel", id); err != nil {
		return id, err
	}
	return id, nil
}
