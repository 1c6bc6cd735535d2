package report

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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

// testMetrics is the type of Report.Test: classification metrics are
// ratios of counts, finite by construction, so the walks below skip them.
var testMetrics = reflect.TypeOf(metrics.Report{})

// setFloats sets every float64 reachable from v (struct fields, slice and
// array elements) to x.
func setFloats(v reflect.Value, x float64) {
	if v.Type() == testMetrics {
		return
	}
	switch v.Kind() {
	case reflect.Float64:
		v.SetFloat(x)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			setFloats(v.Field(i), x)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			setFloats(v.Index(i), x)
		}
	}
}

// floats lists every float64 reachable from v.
func floats(v reflect.Value) []float64 {
	if v.Type() == testMetrics {
		return nil
	}
	switch v.Kind() {
	case reflect.Float64:
		return []float64{v.Float()}
	case reflect.Struct:
		var out []float64
		for i := 0; i < v.NumField(); i++ {
			out = append(out, floats(v.Field(i))...)
		}
		return out
	case reflect.Slice, reflect.Array:
		var out []float64
		for i := 0; i < v.Len(); i++ {
			out = append(out, floats(v.Index(i))...)
		}
		return out
	}
	return nil
}

// TestNonFiniteValuesRoundTrip writes a report in which every number is
// NaN, +Inf or -Inf (a diverged run's) and reads it back: report.json
// spells them "NaN", "+Inf" and "-Inf", like checkpoint metadata. A float
// field added later without a JSON form for them fails here.
func TestNonFiniteValuesRoundTrip(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		t.Run(fmt.Sprint(x), func(t *testing.T) {
			rep := Report{Name: "div", Status: StatusDiverged, Error: "epoch 1 step 3: training diverged: the training loss is NaN",
				Test:    metrics.Report{Classes: []metrics.ClassMetrics{{Name: "a"}}},
				History: []train.EpochMetrics{{Epoch: 1}, {Epoch: 2}}}
			setFloats(reflect.ValueOf(&rep).Elem(), x)
			dir := t.TempDir()
			if err := Write(dir, &rep); err != nil {
				t.Fatalf("write: %v", err)
			}
			b, _ := os.ReadFile(Path(dir))
			if want := fmt.Sprintf(`"train_loss": "%s"`, map[bool]string{true: "NaN", false: fmt.Sprintf("%+v", x)}[math.IsNaN(x)]); !strings.Contains(string(b), want) {
				t.Fatalf("report.json lacks %s:\n%s", want, b)
			}
			got, err := Read(Path(dir))
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			vals := floats(reflect.ValueOf(*got))
			if len(vals) != len(floats(reflect.ValueOf(rep))) {
				t.Fatalf("read back %d numbers, wrote %d", len(vals), len(floats(reflect.ValueOf(rep))))
			}
			for i, v := range vals {
				if !(v == x || (math.IsNaN(v) && math.IsNaN(x))) {
					t.Fatalf("number %d read back as %v, wrote %v", i, v, x)
				}
			}
			if got.Status != StatusDiverged || got.Error != rep.Error {
				t.Fatalf("status %q error %q", got.Status, got.Error)
			}
		})
	}
}
