package runs

import (
	"cmp"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/regularfile"
)

// runConfig is what the run table shows of a run's config.yaml.
type runConfig struct {
	found bool
	Name  string `yaml:"name"`
	Data  struct {
		Dataset string `yaml:"dataset"`
		Dir     string `yaml:"dir"`
	} `yaml:"data"`
}

// readConfig reads the keys runs shows from a run's config.yaml; missing
// or unreadable files give the zero value.
func readConfig(path string) runConfig {
	var c runConfig
	b, err := regularfile.ReadFile(path, config.MaxFileSize)
	if err != nil || yaml.Unmarshal(b, &c) != nil {
		return runConfig{}
	}
	c.found = true
	return c
}

// dataSet returns the data column of a run from its config: configs from
// before data.dataset existed trained on CIFAR-10.
func (c runConfig) dataSet() string {
	if !c.found {
		return ""
	}
	return dataSetName(cmp.Or(c.Data.Dataset, "cifar10"), c.Data.Dir)
}

// dataSetName is a data set as the run table shows it: its kind, and for
// a folder the folder's name.
func dataSetName(kind, location string) string {
	if kind == "folder" && location != "" {
		return kind + ":" + filepath.Base(filepath.Clean(location))
	}
	return kind
}
