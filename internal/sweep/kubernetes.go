package sweep

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/lepton-cli/lepton/internal/atomicfile"
)

// ManifestOptions configure the Kubernetes Indexed Job.
type ManifestOptions struct {
	// Image is the container image; it must hold a lepton binary on its
	// PATH.
	Image string
	// Parallel is the most pods running at once (spec.parallelism).
	Parallel int
	// Data is the data directory inside the pods (LEPTON_DATA_DIR);
	// empty: each trial resolves its data as "lepton train" does.
	Data string
}

// Manifest renders the Kubernetes Indexed Job of the sweep in dir (an
// absolute path, which the pods see on the sweep's PersistentVolumeClaim)
// with n trials: completionMode Indexed, one completion per trial, pod i
// training trial JOB_COMPLETION_INDEX.
func Manifest(dir string, f *File, n int, opts ManifestOptions) ([]byte, error) {
	if opts.Image == "" {
		return nil, fmt.Errorf("kubernetes: --image is required (an image holding the lepton binary)")
	}
	var b bytes.Buffer
	err := manifestTemplate.Execute(&b, map[string]any{
		"Dir": dir, "File": f, "N": n, "Parallel": max(1, min(opts.Parallel, n)),
		"Image": quoteYAML(opts.Image), "DirQ": quoteYAML(dir), "Data": quoteYAML(opts.Data), "HasData": opts.Data != "",
		"Name": dnsName(jobName(dir)), "Memory": kubeMemory(f.Resources.Memory), "CPUs": f.Resources.CPUs,
		"Backoff": 2 * n,
	})
	if err != nil {
		return nil, fmt.Errorf("render Kubernetes manifest: %w", err)
	}
	return b.Bytes(), nil
}

// WriteManifest writes dir/sweep-job.yaml and returns its path.
func WriteManifest(dir string, f *File, n int, opts ManifestOptions) (string, error) {
	b, err := Manifest(dir, f, n, opts)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, ManifestFile)
	return path, atomicfile.WriteFile(path, b, 0o644)
}

// kubeMemory turns a Slurm size (4G, 512M, 2048 megabytes) into a
// Kubernetes quantity (4Gi, 512Mi, 2048Mi).
func kubeMemory(s string) string {
	if n := len(s); n > 0 && strings.ContainsRune("KMGT", rune(s[n-1])) {
		return s + "i"
	}
	return s + "Mi"
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsName makes s a DNS-1123 label short enough for a Job name.
func dnsName(s string) string {
	s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 52 {
		s = strings.TrimRight(s[:52], "-")
	}
	return s
}

// quoteYAML renders s as a double-quoted YAML (and JSON) string.
func quoteYAML(s string) string { return fmt.Sprintf("%q", s) }

var manifestTemplate = template.Must(template.New("job").Parse(`# lepton sweep: {{.N}} trials of {{.File.Path}} as one Kubernetes Indexed Job.
# Written by "lepton sweep --executor kubernetes --emit-only"; apply it with
#   kubectl apply -f {{.Dir}}/sweep-job.yaml
# Pod i trains trial i in {{.Dir}}/trials/<i as 3 digits>, a lepton run
# directory holding its config.yaml. The sweep directory must be on the
# PersistentVolumeClaim "{{.File.Kubernetes.VolumeClaim}}" (copy it there), mounted at the same path.
# A finished trial is skipped, one with a checkpoint resumes, the others
# start. A pod that is evicted or pre-empted gets SIGTERM, saves a resumable
# checkpoint within terminationGracePeriodSeconds, and its index is run
# again without counting as a failure (podFailurePolicy).
apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Name}}
{{- if .File.Kubernetes.Namespace}}
  namespace: {{.File.Kubernetes.Namespace}}
{{- end}}
  labels:
    app.kubernetes.io/name: lepton
    app.kubernetes.io/component: sweep
spec:
  completionMode: Indexed
  completions: {{.N}}
  parallelism: {{.Parallel}}
  backoffLimit: {{.Backoff}}
  podFailurePolicy:
    rules:
      - action: Ignore
        onPodConditions:
          - type: DisruptionTarget
  template:
    metadata:
      labels:
        app.kubernetes.io/name: lepton
        app.kubernetes.io/component: sweep
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 60
      containers:
        - name: trial
          image: {{.Image}}
          command: ["/bin/sh", "-c"]
          args:
            - |
              set -u
              TRIAL=$(printf '%s/trials/%03d' "$SWEEP" "$JOB_COMPLETION_INDEX")
              if grep -qs '"status": "finished"' "$TRIAL/report.json"; then
                echo "trial $TRIAL already finished"
                exit 0
              fi
              if [ -f "$TRIAL/checkpoints/last.safetensors" ]; then
                exec lepton train --resume "$TRIAL" --threads "$THREADS"
              fi
              exec lepton train --config "$TRIAL/config.yaml" --out "$TRIAL" --force --threads "$THREADS"
          env:
            - name: SWEEP
              value: {{.DirQ}}
            - name: THREADS
              value: "{{.CPUs}}"
{{- if .HasData}}
            - name: LEPTON_DATA_DIR
              value: {{.Data}}
{{- end}}
          resources:
            requests:
              cpu: "{{.CPUs}}"
              memory: {{.Memory}}
            limits:
              cpu: "{{.CPUs}}"
              memory: {{.Memory}}
          volumeMounts:
            - name: sweep
              mountPath: {{.DirQ}}
      volumes:
        - name: sweep
          persistentVolumeClaim:
            claimName: {{.File.Kubernetes.VolumeClaim}}
`))
