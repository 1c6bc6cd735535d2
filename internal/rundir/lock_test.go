package rundir

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// helperEnv names the directory a lock helper process races for.
const helperEnv = "LEPTON_LOCK_HELPER_DIR"

// TestLockHelperProcess is not a test of its own: the race tests run the
// test binary again with helperEnv set to use it as a racing process. It
// says "ready", waits for a line on stdin, tries to take the lock, says
// "won" or "refused <error>", and a winner holds the lock until its stdin
// is closed (or it is killed).
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	in := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(3)
	}
	l, err := Acquire(dir)
	if err != nil {
		fmt.Printf("refused %v (ErrLocked %v)\n", err, errors.Is(err, ErrLocked))
		os.Exit(0)
	}
	fmt.Println("won")
	io.Copy(io.Discard, in)
	if err := l.Release(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	os.Exit(0)
}

// racer is one helper process.
type racer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startRacer(t *testing.T, dir string) *racer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &racer{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
}

func (r *racer) line(t *testing.T) string {
	t.Helper()
	s, err := r.out.ReadString('\n')
	if err != nil {
		t.Fatalf("racer %d: %v", r.cmd.Process.Pid, err)
	}
	return strings.TrimSpace(s)
}

// TestLockRace has 20 processes race for one run directory, round after
// round: exactly one wins each time, and the others are refused with
// ErrLocked. Rounds alternate between a winner that releases the lock and
// one killed with SIGKILL, which leaves its lock file (with its PID)
// behind; a stale file or one not yet holding a PID never lets two win.
func TestLockRace(t *testing.T) {
	const procs, rounds = 20, 6
	dir := t.TempDir()
	for round := 1; round <= rounds; round++ {
		if round == 4 {
			// A lock file created but not yet holding a PID.
			os.WriteFile(filepath.Join(dir, LockFile), nil, 0o644)
		}
		racers := make([]*racer, procs)
		for i := range racers {
			racers[i] = startRacer(t, dir)
		}
		for _, r := range racers {
			if got := r.line(t); got != "ready" {
				t.Fatalf("racer said %q, want ready", got)
			}
		}
		for _, r := range racers {
			io.WriteString(r.stdin, "go\n")
		}
		var winners []*racer
		for _, r := range racers {
			switch got := r.line(t); {
			case got == "won":
				winners = append(winners, r)
			case strings.HasPrefix(got, "refused ") && strings.HasSuffix(got, "(ErrLocked true)"):
			default:
				t.Errorf("round %d: racer said %q", round, got)
			}
		}
		t.Logf("round %d: %d of %d processes won", round, len(winners), procs)
		if len(winners) != 1 {
			t.Fatalf("round %d: %d processes won the lock, want exactly 1", round, len(winners))
		}
		w := winners[0]
		if pid, alive := Holder(dir); !alive || pid != w.cmd.Process.Pid {
			t.Errorf("round %d: Holder = %d, %v; want the winner %d, true", round, pid, alive, w.cmd.Process.Pid)
		}
		if round%2 == 0 {
			w.cmd.Process.Kill() // SIGKILL: the kernel releases the lock
			w.cmd.Wait()
			if pid, alive := Holder(dir); alive || pid != w.cmd.Process.Pid {
				t.Errorf("round %d: after SIGKILL, Holder = %d, %v; want the dead %d, false", round, pid, alive, w.cmd.Process.Pid)
			}
		}
		for _, r := range racers {
			r.stdin.Close()
		}
		for _, r := range racers {
			if err := r.cmd.Wait(); err != nil && r != w {
				t.Errorf("round %d: racer %d: %v", round, r.cmd.Process.Pid, err)
			}
		}
	}
}

// TestLockBasics: a held lock is refused naming its holder's PID, Release
// removes the file, and a lock file left by a dead process is taken over.
func TestLockBasics(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir)
	if want := fmt.Sprintf("%s: run directory is in use by process %d", dir, os.Getpid()); !errors.Is(err, ErrLocked) || err.Error() != want {
		t.Fatalf("second Acquire: %v, want %q", err, want)
	}
	if pid, alive := Holder(dir); !alive || pid != os.Getpid() {
		t.Errorf("Holder = %d, %v", pid, alive)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !os.IsNotExist(err) {
		t.Errorf("Release left the lock file: %v", err)
	}
	if _, alive := Holder(dir); alive {
		t.Error("Holder alive after Release")
	}

	// A file naming a live process that holds no lock (a PID reused after a
	// crash) is not a lock.
	os.WriteFile(filepath.Join(dir, LockFile), []byte(strconv.Itoa(os.Getppid())+"\n"), 0o644)
	if _, alive := Holder(dir); alive {
		t.Error("a PID without a lock counts as held")
	}
	l, err = Acquire(dir)
	if err != nil {
		t.Fatalf("lock file without a holder not taken over: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LockFile)); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("lock file holds %q, want this PID", b)
	}
	l.Release()
}
