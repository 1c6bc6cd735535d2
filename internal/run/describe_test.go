package run

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// TestRunRecordsData checks that a run records the data it trains on, as
// an absolute location: config.yaml's data.dir, report.json's data, and
// the model description of both the best and the last checkpoint.
func TestRunRecordsData(t *testing.T) {
	dataDir := cifartest.Toy(t, 60, 20, 5)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := toyConfig(t, "train.epochs=1", "model.batch_norm=true")
	dir, err := Train(context.Background(), Options{Config: cfg, DataDir: rel, OutDir: filepath.Join(t.TempDir(), "run")})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := config.Load(config.LoadOptions{File: filepath.Join(dir, rundir.ConfigFile)})
	if err != nil {
		t.Fatal(err)
	}
	if stored.Data.Dir != dataDir {
		t.Errorf("config.yaml data.dir %q, want %q", stored.Data.Dir, dataDir)
	}
	if cfg.Data.Dir != "" {
		t.Errorf("Train changed the caller's config: data.dir %q", cfg.Data.Dir)
	}
	rep, err := report.Read(report.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.Data; d == nil || d.Kind != "cifar10" || d.Location != dataDir || d.Geometry != data.CIFARGeometry || len(d.Classes) != 10 {
		t.Errorf("report.json data %+v, want cifar10 at %s, 32x32x3, 10 classes", rep.Data, dataDir)
	}
	for _, path := range []string{rundir.Best(dir), rundir.Last(dir)} {
		ck, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		c := ck.Meta.Model
		if ck.Meta.FormatVersion != checkpoint.FormatVersion || c.Data != (checkpoint.DataSource{Dataset: "cifar10", Location: dataDir, Resize: "stretch"}) ||
			c.Input != (checkpoint.Input{Height: 32, Width: 32, Channels: 3, Layout: "CHW"}) || len(c.Classes) != 10 ||
			!c.BatchNorm || len(c.Hidden) != 2 || len(c.Normalization.Mean) != 3 {
			t.Errorf("%s: format %d, description %+v", filepath.Base(path), ck.Meta.FormatVersion, c)
		}
		if ck.Meta.Config == "" {
			t.Errorf("%s: no training config stored (resume needs it)", filepath.Base(path))
		}
	}
}
