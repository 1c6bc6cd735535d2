package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateRefusesFinishedRunWithoutForce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := Create(dir, false, []byte("x")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(Best(dir), []byte("weights"), 0o644)
	if err := Create(dir, false, []byte("y")); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over a run: %v, want ErrExists", err)
	}
	if _, err := os.Stat(Best(dir)); err != nil {
		t.Fatal("refused Create must not remove anything")
	}
	if err := Create(dir, true, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Best(dir)); !os.IsNotExist(err) {
		t.Fatalf("forced Create kept the old checkpoint: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ConfigFile)); string(b) != "y" {
		t.Fatalf("forced Create left config %q, want the new one", b)
	}
}

func TestLatestPicksNewestFinishedRun(t *testing.T) {
	parent := t.TempDir()
	mk := func(name string, finished bool, age time.Duration) {
		dir := filepath.Join(parent, name)
		os.MkdirAll(filepath.Join(dir, CheckpointDir), 0o755)
		os.WriteFile(Best(dir), []byte("w"), 0o644)
		if finished {
			p := filepath.Join(dir, ReportFile)
			os.WriteFile(p, []byte(`{"status":"finished"}`), 0o644)
			ts := time.Now().Add(-age)
			os.Chtimes(p, ts, ts)
		}
	}
	mk("old", true, time.Hour)
	mk("new", true, time.Minute)
	mk("unfinished", false, 0)
	got, err := Latest(parent)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got) != "new" {
		t.Fatalf("Latest = %s, want new", got)
	}
	if _, err := Latest(filepath.Join(parent, "none")); !errors.Is(err, ErrNoRun) {
		t.Fatalf("Latest of a missing dir: %v, want ErrNoRun", err)
	}
}
