package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/blas"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/report"
)

// TestKernelEnv checks LEPTON_KERNEL on the command line: version reports
// the forced kernel, and a bad value is a one-line usage error (exit 2)
// naming the variable and the value, in every command.
func TestKernelEnv(t *testing.T) {
	t.Cleanup(func() { runCLI(t, nil, "version") }) // back to the best kernel
	best, err := blas.ParseKernel("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value string
		args        []string
		code        int
		out, err    string
		need        string // the kernel the case needs
	}{
		{name: "unset", args: []string{"version"}, out: "lepton sgemm, " + best + " kernel"},
		{name: "generic", value: "generic", args: []string{"version"}, out: "lepton sgemm, generic kernel"},
		{name: "generic --version", value: "Generic", args: []string{"--version"}, out: "lepton sgemm, generic kernel"},
		{name: "avx2", value: "avx2", args: []string{"version"}, out: "lepton sgemm, avx2-fma kernel", need: "avx2"},
		{name: "avx2-fma", value: "avx2-fma", args: []string{"version"}, out: "lepton sgemm, avx2-fma kernel", need: "avx2"},
		{name: "bogus", value: "bogus", args: []string{"version"}, code: exitUsage,
			err: `lepton: LEPTON_KERNEL="bogus": unknown kernel (want avx512, avx2 or generic; empty for the best available)` + "\n"},
		{name: "bogus train", value: "bogus", args: []string{"train", "--help"}, code: exitUsage,
			err: `lepton: LEPTON_KERNEL="bogus": unknown kernel (want avx512, avx2 or generic; empty for the best available)` + "\n"},
	}
	for _, k := range []string{"avx2", "avx512"} {
		if _, err := blas.ParseKernel(k); err != nil {
			tests = append(tests, struct {
				name, value string
				args        []string
				code        int
				out, err    string
				need        string
			}{name: k + " unsupported", value: k, args: []string{"version"}, code: exitUsage, err: "lepton: " + err.Error() + "\n"})
		}
	}
	for _, tc := range tests {
		if tc.need != "" {
			if _, err := blas.ParseKernel(tc.need); err != nil {
				continue // the "unsupported" case above checks this kernel's refusal
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, map[string]string{"LEPTON_KERNEL": tc.value}, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.err)
			}
			if tc.err != "" && r.err != tc.err {
				t.Fatalf("stderr %q, want %q", r.err, tc.err)
			}
			if tc.code != 0 && r.out != "" {
				t.Fatalf("stdout %q, want nothing", r.out)
			}
			if !strings.Contains(r.out, tc.out) {
				t.Fatalf("stdout %q, want it to contain %q", r.out, tc.out)
			}
		})
	}
}

// TestKernelInReport trains a toy model under every available kernel and
// checks report.json names the kernel; the AVX2 and AVX-512 kernels give
// bit-identical results, so their runs' test metrics are equal.
func TestKernelInReport(t *testing.T) {
	t.Cleanup(func() { runCLI(t, nil, "version") })
	dataDir := cifartest.Toy(t, 400, 100, 1)
	cfg := writeConfig(t, toyConfig)
	reps := map[string]report.Report{}
	for _, k := range []string{"generic", "avx2", "avx512"} {
		name, err := blas.ParseKernel(k)
		if err != nil {
			continue
		}
		runDir := filepath.Join(t.TempDir(), k)
		r := runCLI(t, map[string]string{"LEPTON_KERNEL": k}, "train", "--config", cfg, "--data", dataDir, "--out", runDir, "--quiet")
		if r.code != 0 {
			t.Fatalf("%s: train exit %d: %s", k, r.code, r.err)
		}
		b, err := os.ReadFile(filepath.Join(runDir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep report.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Kernel != name {
			t.Fatalf("LEPTON_KERNEL=%s: report.json kernel %q, want %q", k, rep.Kernel, name)
		}
		reps[k] = rep
	}
	a2, ok2 := reps["avx2"]
	a5, ok5 := reps["avx512"]
	if ok2 && ok5 && (a2.TestLoss != a5.TestLoss || a2.Test.Accuracy != a5.Test.Accuracy) {
		t.Fatalf("avx2 and avx512 runs differ: loss %v vs %v, accuracy %v vs %v", a2.TestLoss, a5.TestLoss, a2.Test.Accuracy, a5.Test.Accuracy)
	}
}
