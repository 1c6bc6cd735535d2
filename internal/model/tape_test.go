package model

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// pinnedGorgonia is the Gorgonia version whose unexported tape-machine
// field tape.go reaches. Upgrading Gorgonia must revisit tape.go.
const pinnedGorgonia = "v0.9.18"

// TestTapeProgramCounter pins tape.go's unsafe access to the Gorgonia
// version in go.mod: the program counter must be found (or every Run would
// fall back to Reset and reallocate), and rewinding must give the same
// outputs run after run.
func TestTapeProgramCounter(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`gorgonia\.org/gorgonia (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require gorgonia.org/gorgonia")
	}
	if got := string(m[1]); got != pinnedGorgonia {
		t.Fatalf("go.mod requires Gorgonia %s; tape.go was written for %s: check that the tape machine still has an int field \"pc\", then update pinnedGorgonia", got, pinnedGorgonia)
	}
	spec := Spec{Input: 3, Hidden: []int{4}, Classes: 2, Activation: "relu", Init: "he"}
	p, err := NewParams(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, train := range []bool{false, true} {
		c := NewCache(spec, p.Clone(), train)
		n, err := c.Net(2)
		if err != nil {
			t.Fatal(err)
		}
		if n.pc == nil {
			t.Fatalf("train=%v: the tape machine's program counter was not found", train)
		}
		copy(n.Input(), []float32{0.1, -0.2, 0.3, 0.4, 0.5, -0.6})
		if train {
			copy(n.Targets(), []float32{1, 0, 0, 1})
		}
		var first []float32
		for i := range 3 {
			if err := n.Run(); err != nil {
				t.Fatal(err)
			}
			if *n.pc != 0 {
				t.Fatalf("train=%v: program counter %d after Run, want 0 (rewound)", train, *n.pc)
			}
			out, err := n.Logits()
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = slices.Clone(out)
			} else if !slices.Equal(first, out) {
				t.Fatalf("train=%v: run %d logits %v, first run %v", train, i+1, out, first)
			}
		}
		c.Close()
	}
}
