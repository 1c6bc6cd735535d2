package rundir

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

func TestLockRefusesLiveHolderAndTakesOverStale(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}

	// A lock left by a process that has exited is stale.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	os.WriteFile(filepath.Join(dir, LockFile), []byte(strconv.Itoa(dead)+"\n"), 0o644)
	if _, alive := Holder(dir); alive {
		t.Fatalf("process %d should be dead", dead)
	}
	l, err = Acquire(dir)
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	l.Release()

	// A lock held by another live process is refused.
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	os.WriteFile(filepath.Join(dir, LockFile), []byte(strconv.Itoa(sleeper.Process.Pid)), 0o644)
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire with a live holder: %v, want ErrLocked", err)
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
