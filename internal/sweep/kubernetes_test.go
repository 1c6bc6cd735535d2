package sweep

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestManifestGolden checks the Indexed Job manifest byte for byte, and
// that it is YAML with the fields Kubernetes needs to run one pod per
// trial.
func TestManifestGolden(t *testing.T) {
	b, err := Manifest("/sweeps/demo", demoSweep(t), 4, ManifestOptions{Image: "registry.example/lepton:1.0", Parallel: 2, Data: "/data/cifar-10-batches-bin"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sweep-job.yaml", b)

	var job struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name      string `yaml:"name"`
			Namespace string `yaml:"namespace"`
		} `yaml:"metadata"`
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Image     string   `yaml:"image"`
						Args      []string `yaml:"args"`
						Resources struct {
							Requests map[string]string `yaml:"requests"`
						} `yaml:"resources"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatalf("manifest is not YAML: %v", err)
	}
	s := job.Spec
	if job.Kind != "Job" || s.CompletionMode != "Indexed" || s.Completions != 4 || s.Parallelism != 2 || job.Metadata.Namespace != "ml" {
		t.Errorf("job %+v", job)
	}
	c := s.Template.Spec.Containers
	if len(c) != 1 || c[0].Image != "registry.example/lepton:1.0" || c[0].Resources.Requests["cpu"] != "2" || c[0].Resources.Requests["memory"] != "6Gi" {
		t.Fatalf("containers %+v", c)
	}
	if !strings.Contains(c[0].Args[0], `"$JOB_COMPLETION_INDEX"`) {
		t.Errorf("the pod does not pick its trial by JOB_COMPLETION_INDEX:\n%s", c[0].Args[0])
	}
	if _, err := Manifest("/sweeps/demo", demoSweep(t), 4, ManifestOptions{}); err == nil {
		t.Error("a manifest without an image was written")
	}
}

func TestKubeMemory(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"gigabytes", "4G", "4Gi"}, {"megabytes", "512M", "512Mi"}, {"plain megabytes", "2048", "2048Mi"}, {"terabytes", "1T", "1Ti"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kubeMemory(tc.in); got != tc.want {
				t.Errorf("kubeMemory(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
