package realdata

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Fatal and Skip instead of ending
// the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Skip(args ...any)  { r.skip = fmt.Sprint(args...) }

func TestDir(t *testing.T) {
	full, partial := t.TempDir(), t.TempDir()
	for _, f := range Files {
		os.WriteFile(filepath.Join(full, f), nil, 0o644)
		if f != "test_batch.bin" {
			os.WriteFile(filepath.Join(partial, f), nil, 0o644)
		}
	}
	tests := []struct {
		name, dir, ci    string
		want, fail, skip string
	}{
		{name: "present", dir: full, want: full},
		{name: "present under CI", dir: full, ci: "true", want: full},
		{name: "a file missing", dir: partial, skip: "test_batch.bin"},
		{name: "a file missing under CI", dir: partial, ci: "true", fail: "test_batch.bin"},
		{name: "unset", skip: "LEPTON_DATA_DIR is not set"},
		{name: "unset under CI", ci: "1", fail: "LEPTON_DATA_DIR is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvDir, tc.dir)
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			got := Dir(r)
			if got != tc.want || !strings.Contains(r.fatal, tc.fail) || (tc.fail == "") != (r.fatal == "") ||
				!strings.Contains(r.skip, tc.skip) || (tc.skip == "") != (r.skip == "") {
				t.Errorf("Dir = %q, fatal %q, skip %q", got, r.fatal, r.skip)
			}
		})
	}
}
