package data

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fashionLabelDigests are the SHA-256 digests of Fashion-MNIST's label
// files: the official downloads and Debian's dataset-fashion-mnist copies.
var fashionLabelDigests = []string{
	"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", // train, official
	"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", // t10k, official
	"0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056", // train, Debian
	"8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05", // t10k, Debian
}

// Detect guesses the kind of the data set at loc, for commands given only
// a location ("lepton data info --data DIR"): the CIFAR-10 or CIFAR-100
// files (or archive), the IDX files (Fashion-MNIST when a label file is
// one of its known copies, else MNIST), or a folder of class folders. It
// returns "" when loc is none of these.
func Detect(loc string) string {
	fi, err := os.Stat(loc)
	if err != nil {
		return ""
	}
	if !fi.IsDir() {
		if strings.Contains(strings.ToLower(filepath.Base(loc)), "cifar-100") {
			return KindCIFAR100
		}
		return KindCIFAR10
	}
	has := func(l layout) (string, bool) {
		for _, d := range append([]string{""}, l.subdirs...) {
			if dir := filepath.Join(loc, d); hasAnyFile(dir, l.files) {
				return dir, true
			}
		}
		return "", false
	}
	if _, ok := has(cifar10Layout); ok {
		return KindCIFAR10
	}
	if _, ok := has(cifar100Layout); ok {
		return KindCIFAR100
	}
	if dir, ok := has(idxLayout(KindMNIST)); ok {
		for _, f := range []string{idxTrainLabels, idxTestLabels} {
			for _, name := range []string{f, f + ".gz"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					continue
				}
				sum := sha256.Sum256(b)
				if slices.Contains(fashionLabelDigests, hex.EncodeToString(sum[:])) {
					return KindFashionMNIST
				}
			}
		}
		return KindMNIST
	}
	if classes, err := classFolders(loc); err == nil && len(classes) > 0 {
		return KindFolder
	}
	return ""
}
