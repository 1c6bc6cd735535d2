package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// TestHitKillsAtTheArmedOccurrence re-runs this test binary with a point
// armed and checks it dies at that point's armed occurrence, not before.
func TestHitKillsAtTheArmedOccurrence(t *testing.T) {
	if os.Getenv("FAILPOINT_HELPER") == "1" {
		for i := 1; i <= 3; i++ {
			Hit("other")
			Hit("p")
			os.Stdout.WriteString("passed " + string(rune('0'+i)) + "\n")
		}
		os.Exit(0)
	}
	tests := []struct {
		name, env, want string
		killed          bool
	}{
		{name: "inert", env: "", want: "passed 1\npassed 2\npassed 3\n"},
		{name: "first", env: "p", want: "", killed: true},
		{name: "third", env: "p@3", want: "passed 1\npassed 2\n", killed: true},
		{name: "never reached", env: "p@4", want: "passed 1\npassed 2\npassed 3\n"},
		{name: "malformed count stays inert", env: "p@0", want: "passed 1\npassed 2\npassed 3\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHitKillsAtTheArmedOccurrence$")
			cmd.Env = append(os.Environ(), "FAILPOINT_HELPER=1", Env+"="+tc.env)
			out, err := cmd.Output()
			var ee *exec.ExitError
			if killed := errors.As(err, &ee) && !ee.Success(); killed != tc.killed {
				t.Fatalf("killed %v (%v), want %v", killed, err, tc.killed)
			}
			if string(out) != tc.want {
				t.Fatalf("output %q, want %q", out, tc.want)
			}
		})
	}
}
