package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
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

// TestREADMEExitCodes checks that exit.go's exitCodes table describes
// exactly the exit* constants exit.go defines (read from its source, so a
// new constant without a table row fails), each once, in ascending order,
// and that the README's table is the one rendered from it (go test
// ./cmd/lepton -run README -update rewrites it).
func TestREADMEExitCodes(t *testing.T) {
	defined := exitConstants(t, "exit.go")
	var table []int
	for _, e := range exitCodes {
		table = append(table, e.code)
	}
	if !slices.IsSorted(table) || len(slices.Compact(slices.Clone(table))) != len(table) {
		t.Errorf("exitCodes %v: want each code once, ascending", table)
	}
	if !slices.Equal(table, defined) {
		t.Errorf("exitCodes table lists %v, exit.go defines the constants %v", table, defined)
	}

	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("| code | meaning |\n| --- | --- |\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&want, "| %d | %s |\n", e.code, e.meaning)
	}
	before, body, after := section(t, string(b), "exit-codes")
	if body == want.String() {
		return
	}
	if *update {
		if err := os.WriteFile("../../README.md", []byte(before+want.String()+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md exit-code table is stale; run go test ./cmd/lepton -run README -update\nwant:\n%s", want.String())
}

// exitConstants returns the sorted values of the constants named exit* in
// the Go source file path.
func exitConstants(t *testing.T, path string) []int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "exit") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					t.Fatalf("%s: constant %s is not an integer literal", path, name.Name)
				}
				n, err := strconv.Atoi(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				codes = append(codes, n)
			}
		}
	}
	if len(codes) == 0 {
		t.Fatalf("%s defines no exit* constants", path)
	}
	slices.Sort(codes)
	return codes
}
