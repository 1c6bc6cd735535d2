//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/lepton-cli/lepton/internal/cifartest"
)

// TestNoColourOnATerminal runs lepton with stderr on a pseudo-terminal, so
// that it detects a terminal and draws its progress bars, with and without
// NO_COLOR: the bar must render, with no ANSI escape anywhere.
func TestNoColourOnATerminal(t *testing.T) {
	bin := buildLepton(t)
	dataDir := cifartest.Toy(t, 400, 100, 1)
	cfg := writeConfig(t, toyConfig)
	for _, noColor := range []string{"", "1"} {
		t.Run("NO_COLOR="+noColor, func(t *testing.T) {
			ptmx, tty, err := pty.Open()
			if err != nil {
				t.Fatalf("open a pseudo-terminal: %v", err)
			}
			defer ptmx.Close()
			cmd := exec.Command(bin, "train", "--config", cfg, "--data", dataDir, "--out", filepath.Join(t.TempDir(), "run"))
			cmd.Env = append(os.Environ(), "NO_COLOR="+noColor)
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, tty
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close() // the child holds it
			var terminal bytes.Buffer
			done := make(chan struct{})
			go func() { io.Copy(&terminal, ptmx); close(done) }() // ends with EIO once the child exits
			err = cmd.Wait()
			<-done
			if err != nil {
				t.Fatalf("train: %v\n%s", err, terminal.String())
			}
			out := terminal.String()
			if !strings.Contains(out, "img/s") || !strings.Contains(out, "|") || !strings.Contains(out, "/30)") {
				t.Errorf("no progress bar on the terminal:\n%q", out)
			}
			if strings.Contains(out+stdout.String(), "\x1b[") {
				t.Errorf("ANSI escapes on a terminal (NO_COLOR=%q):\n%q", noColor, out)
			}
		})
	}
}
