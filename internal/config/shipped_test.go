package config

import (
	"path/filepath"
	"testing"
)

// TestShippedConfigsLoad checks every config under configs/ loads and
// validates, and that best.yaml keeps its training controls on.
func TestShippedConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("configs: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := Load(LoadOptions{File: f})
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(f) == "best.yaml" {
				a := cfg.Data.Augment
				if !a.Flip || !a.Crop || !cfg.Model.BatchNorm || len(cfg.Model.Dropout) == 0 ||
					cfg.Train.Optimizer.Name != "adamw" || cfg.Train.Schedule.Name != "cosine" {
					t.Errorf("best.yaml lost a training control: %+v", cfg)
				}
			}
		})
	}
}
