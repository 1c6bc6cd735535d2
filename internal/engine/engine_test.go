package engine

import (
	"runtime"
	"testing"
)

func TestConfigure(t *testing.T) {
	defer Configure(Settings{})
	tests := []struct {
		name    string
		threads int
		want    int
	}{
		{name: "one thread", threads: 1, want: 1},
		{name: "all cores", threads: 0, want: runtime.NumCPU()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if k := Configure(Settings{Threads: tc.threads}); k == "" {
				t.Fatal("no kernel name")
			}
			if got := runtime.GOMAXPROCS(0); got != tc.want {
				t.Fatalf("GOMAXPROCS %d, want %d", got, tc.want)
			}
		})
	}
}
