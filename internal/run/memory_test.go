package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/model"
)

// TestRunRefusesModelTooLargeForMemory is the reproduction of issue 10:
// --set 'model.hidden=[100000,100000]' died out of memory. Train must refuse
// it before loading data or making the run directory, as a config error.
func TestRunRefusesModelTooLargeForMemory(t *testing.T) {
	if _, _, ok := model.SystemMemory(); !ok {
		t.Skip("the machine's memory is unknown here, so nothing is refused")
	}
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = 3072, 10 // given, so known before the data
	cfg.Model.Hidden = []int{100000, 100000}
	out := filepath.Join(t.TempDir(), "run")
	_, err := Train(context.Background(), Options{Config: &cfg, DataDir: filepath.Join(t.TempDir(), "no-data"), OutDir: out})
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Train error %v (%T), want a *config.Error", err, err)
	}
	if !strings.Contains(err.Error(), "training this model needs about") || !strings.Contains(err.Error(), "memory available") {
		t.Errorf("error %q does not give the estimate and the machine's memory", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run directory %s exists after the refusal (stat: %v)", out, err)
	}
}
