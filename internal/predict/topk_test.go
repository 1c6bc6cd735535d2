package predict

import (
	"bytes"
	"testing"
)

func TestTopK(t *testing.T) {
	tests := []struct {
		name    string
		k, n    int
		want    int
		wantErr string
	}{
		{name: "default", k: 0, n: 10, want: 3},
		{name: "default with two classes: no note", k: 0, n: 2, want: 2},
		{name: "asked", k: 5, n: 10, want: 5},
		{name: "asked above the classes", k: 25, n: 10, want: 10, wantErr: "lepton: --top-k 25 is more than the checkpoint's 10 classes: using 10\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := TopK(tc.k, tc.n, &stderr); got != tc.want || stderr.String() != tc.wantErr {
				t.Fatalf("TopK(%d, %d) = %d with note %q, want %d with %q", tc.k, tc.n, got, stderr.String(), tc.want, tc.wantErr)
			}
		})
	}
}
