package runs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestColumnsShowHyperparameters: --columns keys are read from each run's
// config.yaml, shown after the config column (JSON: "params") and sortable
// as numbers; a run without the key shows "-".
func TestColumnsShowHyperparameters(t *testing.T) {
	parent := layout(t, []fixture{
		{name: "a", config: "mlp", epochs: 2, report: reportJSON("mlp", "finished", 2, 2, 0.40, 0.39, 60)},
		{name: "b", config: "mlp", epochs: 2, report: reportJSON("mlp", "finished", 2, 2, 0.45, 0.44, 60)},
		{name: "c", config: "mlp", epochs: 1},
	})
	for name, lr := range map[string]string{"a": "0.01", "b": "0.003"} {
		cfg := "name: mlp\ntrain:\n  optimizer:\n    lr: " + lr + "\nmodel:\n  hidden: [64, 32]\n"
		os.WriteFile(filepath.Join(parent, name, "config.yaml"), []byte(cfg), 0o644)
	}
	runs, _, err := List(parent)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"train.optimizer.lr", "model.hidden"}
	LoadParams(runs, keys)
	if err := Sort(runs, "train.optimizer.lr", false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, format string
		want         []string
	}{
		{"text", "text", []string{
			"name  config  train.optimizer.lr  model.hidden  data     epochs  best_val_acc  test_acc  minutes  status",
			"b     mlp     0.003               [64, 32]      cifar10  2       0.4500        0.4400    1.0      finished",
			"a     mlp     0.01                [64, 32]      cifar10  2       0.4000        0.3900    1.0      finished",
			"c     mlp     -                   [8]           cifar10  1       0.3500        -         0.0      incomplete",
		}},
		{"csv", "csv", []string{
			"name,config,train.optimizer.lr,model.hidden,data,epochs,best_val_acc,test_acc,minutes,status,dir",
			"b,mlp,0.003,\"[64, 32]\",cifar10,2,0.45,0.44,1,finished," + filepath.Join(parent, "b"),
		}},
		{"markdown", "markdown", []string{
			"| name | config | train.optimizer.lr | model.hidden | data | epochs | best_val_acc | test_acc | minutes | status |",
			"| c | mlp | - | [8] | cifar10 | 1 | 0.3500 | - | 0.0 | incomplete |",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteColumns(&b, runs, tc.format, keys); err != nil {
				t.Fatal(err)
			}
			for _, line := range tc.want {
				if !strings.Contains(b.String(), line+"\n") {
					t.Errorf("output lacks line %q:\n%s", line, b.String())
				}
			}
		})
	}
	var b bytes.Buffer
	WriteColumns(&b, runs, "json", keys)
	var rows []struct {
		Name   string         `json:"name"`
		Params map[string]any `json:"params"`
	}
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if rows[0].Name != "b" || rows[0].Params["train.optimizer.lr"] != 0.003 || len(rows[0].Params["model.hidden"].([]any)) != 2 {
		t.Errorf("JSON rows %+v", rows)
	}
	if _, ok := rows[2].Params["train.optimizer.lr"]; ok {
		t.Errorf("run c has no lr in its config.yaml but got %v", rows[2].Params)
	}
}
