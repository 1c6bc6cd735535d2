package report

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/train"
)

func TestWriteRead(t *testing.T) {
	tests := []struct {
		name string
		rep  Report
	}{
		{name: "finished", rep: Report{Name: "mlp", Status: StatusFinished, Epochs: 2, BestEpoch: 2, BestValAcc: 0.5,
			Test:    metrics.Report{Accuracy: 0.48, Count: 10},
			History: []train.EpochMetrics{{Epoch: 1, ValAcc: 0.4}, {Epoch: 2, ValAcc: 0.5}}, Checkpoint: "checkpoints/best.safetensors"}},
		{name: "failed", rep: Report{Name: "x", Status: StatusFailed, Error: "boom", History: []train.EpochMetrics{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, &tc.rep); err != nil {
				t.Fatal(err)
			}
			got, err := Read(Path(dir))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.rep) {
				t.Fatalf("read back %+v, wrote %+v", *got, tc.rep)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "report.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing report: %v, want fs.ErrNotExist", err)
	}
	if _, err := Decode([]byte("{")); err == nil {
		t.Fatal("truncated JSON decoded")
	}
}
