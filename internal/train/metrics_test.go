package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadMetrics(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"reordered columns, extra column, NaN", "val_acc,epoch,lr,train_loss,train_acc,val_loss,extra\n0.5,1,0.1,NaN,0.4,+Inf,x\n",
			"[{1 NaN 0.4 +Inf 0.5 0.1 0 0}]"},
		{"header only", "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n", "[]"},
		{"empty file", "", "[]"},
		{"missing column", "epoch,train_loss\n1,2\n", `error: no "train_acc" column in the header`},
		{"bad number", "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n1,x,0,0,0,0,0\n", `error: line 2: train_loss "x" is not a number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "metrics.csv")
			os.WriteFile(path, []byte(tc.body), 0o644)
			h, err := ReadMetrics(path)
			got := fmt.Sprint(h)
			if h == nil {
				got = "[]"
			}
			if err != nil {
				got = "error: " + strings.TrimPrefix(err.Error(), path+": ")
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
