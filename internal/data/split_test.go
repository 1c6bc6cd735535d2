package data

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestResolveDir(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	full := map[string]string{"HOME": "/home/u", EnvDataDir: "/env/data", "XDG_CACHE_HOME": "/xdg"}
	tests := []struct {
		name      string
		flag, cfg string
		env       map[string]string
		want      string
	}{
		{name: "flag wins", flag: "/flag", cfg: "/cfg", env: full, want: "/flag"},
		{name: "config next", cfg: "/cfg", env: full, want: "/cfg"},
		{name: "env next", env: full, want: "/env/data"},
		{name: "xdg cache", env: map[string]string{"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"}, want: "/xdg/lepton/cifar-10"},
		{name: "home cache", env: map[string]string{"HOME": "/home/u"}, want: "/home/u/.cache/lepton/cifar-10"},
		{name: "tilde in flag", flag: "~/data", env: full, want: "/home/u/data"},
		{name: "tilde in config", cfg: "~", env: full, want: "/home/u"},
		{name: "tilde in env", env: map[string]string{"HOME": "/h", EnvDataDir: "~/c"}, want: "/h/c"},
		{name: "relative flag kept", flag: "data", env: full, want: "data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ResolveDir(tc.flag, tc.cfg, env(tc.env)); got != tc.want {
				t.Errorf("ResolveDir = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResolveLocation(t *testing.T) {
	root := t.TempDir() // LEPTON_DATA_DIR as a parent of several data sets
	for _, d := range []string{"mnist", "cifar-10-batches-bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	withRoot := map[string]string{"HOME": "/home/u", EnvDataDir: root}
	tests := []struct {
		name, kind, flag, cfg string
		env                   map[string]string
		want                  string
	}{
		{name: "sub-directory of the env dir", kind: KindMNIST, env: withRoot, want: filepath.Join(root, "mnist")},
		{name: "official cifar sub-directory", kind: KindCIFAR10, env: withRoot, want: filepath.Join(root, "cifar-10-batches-bin")},
		{name: "env dir itself", kind: KindFashionMNIST, env: withRoot, want: root},
		{name: "cache per kind", kind: KindFashionMNIST, env: map[string]string{"HOME": "/home/u"}, want: "/home/u/.cache/lepton/fashion-mnist"},
		{name: "xdg cache", kind: KindCIFAR100, env: map[string]string{"XDG_CACHE_HOME": "/xdg"}, want: "/xdg/lepton/cifar-100"},
		{name: "folders have no default", kind: KindFolder, env: withRoot, want: ""},
		{name: "folder from the config", kind: KindFolder, cfg: "~/photos", env: withRoot, want: "/home/u/photos"},
		{name: "flag wins", kind: KindMNIST, flag: "/f", cfg: "/c", env: withRoot, want: "/f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ResolveLocation(tc.kind, tc.flag, tc.cfg, env(tc.env)); got != tc.want {
				t.Errorf("ResolveLocation = %q, want %q", got, tc.want)
			}
		})
	}
	if got := CacheRoot(env(map[string]string{"HOME": "/h"})); got != "/h/.cache/lepton" {
		t.Errorf("CacheRoot = %q", got)
	}
}

// labelsWithCounts returns shuffled labels with counts[c] entries of class c.
func labelsWithCounts(counts []int) []uint8 {
	var ls []uint8
	for c, n := range counts {
		for range n {
			ls = append(ls, uint8(c))
		}
	}
	r := rand.New(rand.NewPCG(9, 9))
	r.Shuffle(len(ls), func(i, j int) { ls[i], ls[j] = ls[j], ls[i] })
	return ls
}

func TestStratifiedSplit(t *testing.T) {
	tests := []struct {
		name    string
		counts  []int
		frac    float64
		wantVal []int // per class
	}{
		{name: "zero fraction", counts: []int{5, 7}, frac: 0, wantVal: []int{0, 0}},
		{name: "negative fraction", counts: []int{5, 7}, frac: -0.3, wantVal: []int{0, 0}},
		{name: "NaN fraction", counts: []int{5, 7}, frac: math.NaN(), wantVal: []int{0, 0}},
		{name: "all", counts: []int{5, 7}, frac: 1, wantVal: []int{5, 7}},
		{name: "above one", counts: []int{5, 7}, frac: 1.5, wantVal: []int{5, 7}},
		{name: "tenth", counts: []int{100, 50, 10, 3, 0, 1, 1, 1, 1, 1}, frac: 0.1, wantVal: []int{10, 5, 1, 0, 0, 0, 0, 0, 0, 0}},
		{name: "half rounds away from zero", counts: []int{5, 3, 4}, frac: 0.5, wantVal: []int{3, 2, 2}},
		{name: "cifar like", counts: []int{1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}, frac: 0.1,
			wantVal: []int{101, 97, 103, 102, 100, 94, 103, 100, 103, 98}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			labels := labelsWithCounts(tc.counts)
			train, val := StratifiedSplit(labels, tc.frac, 42)
			if !slices.IsSorted(train) || !slices.IsSorted(val) {
				t.Fatal("lists are not sorted")
			}
			all := slices.Concat(train, val)
			slices.Sort(all)
			for i, v := range all {
				if v != i {
					t.Fatalf("train+val is not a partition of 0..%d (position %d holds %d)", len(labels)-1, i, v)
				}
			}
			if len(all) != len(labels) {
				t.Fatalf("train+val has %d indices, want %d", len(all), len(labels))
			}
			got := make([]int, len(tc.counts))
			for _, i := range val {
				got[labels[i]]++
			}
			if !slices.Equal(got, tc.wantVal) {
				t.Errorf("validation per class = %v, want %v", got, tc.wantVal)
			}
			train2, val2 := StratifiedSplit(labels, tc.frac, 42)
			if !slices.Equal(train, train2) || !slices.Equal(val, val2) {
				t.Error("same seed gave a different split")
			}
		})
	}
}

func TestStratifiedSplitSeed(t *testing.T) {
	labels := labelsWithCounts([]int{50, 50, 50})
	_, a := StratifiedSplit(labels, 0.2, 1)
	_, b := StratifiedSplit(labels, 0.2, 2)
	if slices.Equal(a, b) {
		t.Error("different seeds gave the same validation set")
	}
	// Golden value: the split must not change across versions.
	train, val := StratifiedSplit([]uint8{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 2, 2, 2}, 0.5, 3)
	if want := []int{0, 1, 3, 4, 12, 13}; !slices.Equal(train, want) {
		t.Errorf("train = %v, want %v", train, want)
	}
	if want := []int{2, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(val, want) {
		t.Errorf("val = %v, want %v", val, want)
	}
}

func TestEpochOrder(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		seed  uint64
		epoch int
		want  []int // nil: only check it is a permutation
	}{
		{name: "empty", n: 0, want: []int{}},
		{name: "negative", n: -3, want: []int{}},
		{name: "one", n: 1, seed: 5, want: []int{0}},
		{name: "golden seed 42 epoch 0", n: 10, seed: 42, epoch: 0, want: []int{6, 2, 5, 3, 4, 7, 0, 1, 9, 8}},
		{name: "golden seed 42 epoch 1", n: 10, seed: 42, epoch: 1, want: []int{2, 3, 9, 6, 0, 8, 7, 4, 5, 1}},
		{name: "golden seed 7 epoch 0", n: 10, seed: 7, epoch: 0, want: []int{7, 8, 6, 4, 3, 5, 1, 0, 9, 2}},
		{name: "large", n: 50000, seed: 1, epoch: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EpochOrder(tc.n, tc.seed, tc.epoch)
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Fatalf("EpochOrder = %v, want %v", got, tc.want)
			}
			sorted := slices.Sorted(slices.Values(got))
			for i, v := range sorted {
				if v != i {
					t.Fatalf("not a permutation: sorted[%d] = %d", i, v)
				}
			}
			if !slices.Equal(got, EpochOrder(tc.n, tc.seed, tc.epoch)) {
				t.Error("same inputs gave a different order")
			}
		})
	}
	if slices.Equal(EpochOrder(100, 1, 0), EpochOrder(100, 1, 1)) {
		t.Error("epochs 0 and 1 gave the same order")
	}
	if slices.Equal(EpochOrder(100, 1, 0), EpochOrder(100, 2, 0)) {
		t.Error("seeds 1 and 2 gave the same order")
	}
}

func TestEpochOrderUniform(t *testing.T) {
	// Each of the 6 permutations of 3 elements should appear about equally often.
	counts := map[[3]int]int{}
	const trials = 6000
	for e := range trials {
		p := EpochOrder(3, 11, e)
		counts[[3]int(p)]++
	}
	if len(counts) != 6 {
		t.Fatalf("saw %d distinct permutations, want 6", len(counts))
	}
	for p, c := range counts {
		if c < 850 || c > 1150 {
			t.Errorf("permutation %v drawn %d times, want about %d", p, c, trials/6)
		}
	}
}
