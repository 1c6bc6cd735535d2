package main

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated README sections")

// section returns the text between <!-- name:start ...--> and <!-- name:end -->.
func section(t *testing.T, readme, name string) (before, body, after string) {
	t.Helper()
	start := strings.Index(readme, "<!-- "+name+":start")
	end := strings.Index(readme, "<!-- "+name+":end -->")
	if start < 0 || end < start {
		t.Fatalf("README.md lacks the %s section markers", name)
	}
	nl := strings.Index(readme[start:], "\n") + start + 1
	return readme[:nl], readme[nl:end], readme[end:]
}

// TestREADMEConfigReference keeps the README's config reference equal to
// `lepton config keys` (go test -run README -update rewrites it).
func TestREADMEConfigReference(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := writeKeyReference(&want); err != nil {
		t.Fatal(err)
	}
	before, body, after := section(t, string(b), "config-reference")
	if body == want.String() {
		return
	}
	if *update {
		if err := os.WriteFile("../../README.md", []byte(before+want.String()+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md config reference is stale; run go test ./cmd/lepton -run README -update\nwant:\n%s", want.String())
}

// TestREADMEExitCodes checks the README's exit-code table lists exactly the
// codes the program uses.
func TestREADMEExitCodes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := section(t, string(b), "exit-codes")
	var got []int
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[1])
		got = append(got, n)
	}
	want := []int{exitOK, exitFailure, exitUsage, exitData, exitCheckpoint, exitRunExists, exitSIGINT, exitSIGTERM}
	if len(got) != len(want) {
		t.Fatalf("README exit codes %v, program uses %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("README exit codes %v, program uses %v", got, want)
		}
	}
}
