package config

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// padded returns a valid config of exactly size bytes (a comment fills it).
func padded(size int) string {
	head := "seed: 7\n#"
	return head + strings.Repeat("x", size-len(head)-1) + "\n"
}

func TestLoadFileSizeLimit(t *testing.T) {
	// 20 million one-unit layers: 40 MB that used to take 7 GB and 40 s.
	huge := "model:\n  hidden: [" + strings.Repeat("1,", 20_000_000) + "1]\n"
	inDir(t, map[string]string{
		"at-limit.yaml":   padded(MaxFileSize),
		"over-limit.yaml": padded(MaxFileSize + 1),
		"huge.yaml":       huge,
	})
	if err := os.Mkdir("dir.yaml", 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    string
		wantMsg string // "" accepts
		wantIs  error
	}{
		{name: "exactly MaxFileSize", file: "at-limit.yaml"},
		{name: "one byte over", file: "over-limit.yaml", wantIs: regularfile.ErrTooLarge,
			wantMsg: "read config over-limit.yaml: file is 1048577 bytes, more than the 1048576 allowed"},
		{name: "40 MB of layers", file: "huge.yaml", wantIs: regularfile.ErrTooLarge,
			wantMsg: "read config huge.yaml: file is 40000021 bytes, more than the 1048576 allowed"},
		{name: "directory", file: "dir.yaml", wantIs: regularfile.ErrNotRegular,
			wantMsg: "open config dir.yaml: is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cfg, err := Load(LoadOptions{File: tc.file})
			runtime.ReadMemStats(&after)
			if tc.wantMsg == "" {
				if err != nil || cfg.Seed != 7 {
					t.Fatalf("Load = %+v, %v; want seed 7", cfg, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantMsg {
				t.Fatalf("Load error %v, want %q", err, tc.wantMsg)
			}
			var ce *Error
			if !errors.As(err, &ce) || !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v: want a *config.Error wrapping %v", err, tc.wantIs)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("Load allocated %d bytes before refusing, want < 1 MiB", alloc)
			}
		})
	}
}

func TestParseSizeLimit(t *testing.T) {
	if _, err := Parse([]byte(padded(MaxFileSize))); err != nil {
		t.Fatalf("Parse of MaxFileSize bytes: %v", err)
	}
	_, err := Parse([]byte(padded(MaxFileSize + 1)))
	var ce *Error
	if want := "config is 1048577 bytes, more than the 1048576 allowed"; err == nil || err.Error() != want || !errors.As(err, &ce) {
		t.Fatalf("Parse error %v, want *config.Error %q", err, want)
	}
}
