package data

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"strings"
)

// EnvDataDir is the environment variable naming the data directory.
const EnvDataDir = "LEPTON_DATA_DIR"

// splitStream is the second PCG seed word used by StratifiedSplit, so its
// stream differs from EpochOrder's for the same seed.
const splitStream = 0x5eed_5a11_7000_0001

// ResolveDir picks the CIFAR-10 data location: ResolveLocation for
// KindCIFAR10.
func ResolveDir(flag, cfgDir string, getenv func(string) string) string {
	return ResolveLocation(KindCIFAR10, flag, cfgDir, getenv)
}

// dirNames are the directory names of each kind under LEPTON_DATA_DIR and
// the cache: the one fetch creates first, then others that are looked for.
var dirNames = map[string][]string{
	KindCIFAR10:      {"cifar-10", ArchiveDir},
	KindCIFAR100:     {"cifar-100", CIFAR100Dir},
	KindMNIST:        {"mnist"},
	KindFashionMNIST: {"fashion-mnist"},
}

// ResolveLocation picks the location of a data set of kind: flag, then
// cfgDir (config's data.dir), then env LEPTON_DATA_DIR, then the cache
// ($XDG_CACHE_HOME/lepton/<name>, else ~/.cache/lepton/<name>, where name
// is cifar-10, cifar-100, mnist or fashion-mnist). LEPTON_DATA_DIR may be
// the data set's own directory or a parent of several: when it has a
// sub-directory of the kind's name (such as mnist/), that is used. A
// folder data set has no default: "" unless flag or cfgDir gives one. A
// leading "~/" in flag, cfgDir or the env value is expanded to $HOME.
// Environment variables are read through getenv.
func ResolveLocation(kind, flag, cfgDir string, getenv func(string) string) string {
	home := getenv("HOME")
	for _, p := range []string{flag, cfgDir} {
		if p != "" {
			return expandHome(p, home)
		}
	}
	if kind == "" {
		kind = KindCIFAR10
	}
	names, ok := dirNames[kind]
	if !ok {
		return "" // folders: only where the user says
	}
	if env := getenv(EnvDataDir); env != "" {
		env = expandHome(env, home)
		for _, n := range names {
			if sub := filepath.Join(env, n); isDir(sub) {
				return sub
			}
		}
		return env
	}
	return filepath.Join(CacheRoot(getenv), names[0])
}

func expandHome(p, home string) string {
	if home == "" {
		return p
	}
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return p
}

// StratifiedSplit returns sorted train and validation index lists: for
// every class, round(frac * count) of that class's indices (chosen with a
// PRNG seeded from seed, math/rand/v2 PCG) go to validation, the rest to
// train. frac <= 0 (or NaN) gives no validation, frac >= 1 puts everything
// in validation. Together the lists cover 0..len(labels)-1 exactly once.
func StratifiedSplit(labels []uint8, frac float64, seed uint64) (train, val []int) {
	return stratifiedSplit(labels, frac, seed, splitStream)
}

// stratifiedSplit is StratifiedSplit with the PCG's second seed word.
func stratifiedSplit(labels []uint8, frac float64, seed, stream uint64) (train, val []int) {
	if math.IsNaN(frac) || frac < 0 {
		frac = 0
	}
	frac = min(frac, 1)
	var byClass [256][]int
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	src := rand.NewPCG(seed, stream)
	inVal := make([]bool, len(labels))
	nVal := 0
	for _, idx := range byClass {
		k := int(math.Round(frac * float64(len(idx))))
		// Partial Fisher-Yates: the first k positions get a uniform sample.
		for i := range k {
			j := i + int(uniform(src, uint64(len(idx)-i)))
			idx[i], idx[j] = idx[j], idx[i]
			inVal[idx[i]] = true
		}
		nVal += k
	}
	train = make([]int, 0, len(labels)-nVal)
	val = make([]int, 0, nVal)
	for i, v := range inVal {
		if v {
			val = append(val, i)
		} else {
			train = append(train, i)
		}
	}
	return train, val
}

// EpochOrder returns the deterministic shuffled order of n examples for an
// epoch: a permutation drawn from a PCG seeded with (seed, uint64(epoch)).
// Same inputs, same order, on every machine and Go version: the shuffle and
// the bounded draws are implemented here on top of PCG's specified output.
func EpochOrder(n int, seed uint64, epoch int) []int {
	if n <= 0 {
		return []int{}
	}
	src := rand.NewPCG(seed, uint64(epoch))
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(uniform(src, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// uniform returns an unbiased value in [0, n) (n > 0) with Lemire's
// multiply-and-reject method.
func uniform(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
