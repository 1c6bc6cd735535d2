package main

import (
	"errors"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

func TestPositionalConfigSuggestsFlag(t *testing.T) {
	cfg := writeConfig(t, toyConfig)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "yaml file", args: []string{"train", "configs/mlp.yaml"}, want: "lepton: train takes its config with --config: lepton train --config configs/mlp.yaml\n"},
		{name: "existing file", args: []string{"train", cfg}, want: "lepton: train takes its config with --config: lepton train --config " + cfg + "\n"},
		{name: "other word", args: []string{"train", "now"}, want: "lepton: train takes no arguments, got \"now\" (the config goes with --config FILE)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != exitUsage || r.err != tc.want {
				t.Errorf("exit %d, stderr %q; want %d, %q", r.code, r.err, exitUsage, tc.want)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	flag := runCLI(t, nil, "--version")
	cmd := runCLI(t, nil, "version")
	if flag.code != 0 || cmd.code != 0 || flag.out != cmd.out || !strings.HasPrefix(flag.out, "lepton ") {
		t.Errorf("--version: exit %d %q; version: exit %d %q", flag.code, flag.out, cmd.code, cmd.out)
	}
}

func TestReadBuildInfo(t *testing.T) {
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/lepton-cli/lepton", Version: "v1.2.0"}}
	local := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name              string
		ldVersion, commit string
		info              *debug.BuildInfo
		want              buildInfo
	}{
		{name: "go install @v1.2.0", ldVersion: "dev", info: installed, want: buildInfo{version: "v1.2.0"}},
		{name: "make build", ldVersion: "v1.3.0-4-gabc", commit: "abc", info: installed, want: buildInfo{version: "v1.3.0-4-gabc", commit: "abc"}},
		{name: "go build in a checkout", ldVersion: "dev", info: local, want: buildInfo{version: "dev", commit: "abc123", modified: true}},
		{name: "no build info", ldVersion: "dev", want: buildInfo{version: "dev"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := readBuildInfo(tc.ldVersion, tc.commit, tc.info); got != tc.want {
				t.Errorf("readBuildInfo = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestInterruptMessage(t *testing.T) {
	canceled := errors.New("context canceled")
	tests := []struct {
		name string
		sig  os.Signal
		err  error
		want string
	}{
		{name: "saved", sig: syscall.SIGINT, err: interruptedError{dir: "runs/mlp-1", saved: true, err: canceled},
			want: "interrupted (SIGINT): checkpoint saved; resume with: lepton train --resume runs/mlp-1"},
		{name: "SIGTERM, quoted dir", sig: syscall.SIGTERM, err: interruptedError{dir: "my runs/it's", saved: true, err: canceled},
			want: `interrupted (SIGTERM): checkpoint saved; resume with: lepton train --resume 'my runs/it'\''s'`},
		{name: "before the first checkpoint", sig: syscall.SIGINT, err: interruptedError{dir: "r", err: canceled},
			want: "interrupted (SIGINT) before the first checkpoint; start again with: lepton train --resume r"},
		{name: "not training", sig: syscall.SIGINT, err: canceled, want: "interrupted (SIGINT)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := interruptMessage(tc.sig, tc.err); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestConfigMistakesAllReported checks that train and config validate
// report every mistake of a config, one "lepton:" line each, with lines.
func TestConfigMistakesAllReported(t *testing.T) {
	cfg := writeConfig(t, "train:\n  epoch: 3\n  optimizer:\n    lr: -1\nmodel:\n  hidden: [0]\n")
	want := "lepton: " + cfg + ":2: train.epoch: unknown key (did you mean train.epochs?)\n" +
		"lepton: " + cfg + ":4: train.optimizer.lr: must be > 0, got -1\n" +
		"lepton: " + cfg + ":6: model.hidden: each size must be >= 1, got [0]\n"
	for _, args := range [][]string{{"train", "--config", cfg}, {"config", "validate", cfg}} {
		r := runCLI(t, nil, args...)
		if r.code != exitUsage || r.err != want {
			t.Errorf("%v: exit %d, stderr\n%s\nwant\n%s", args, r.code, r.err, want)
		}
	}
}
