package data

// Download is one file to download: its URL, its SHA-256 (hex) and the
// name it is saved as.
type Download struct {
	URL, SHA256, Name string
}

// DebianFashionMNIST is where Debian's dataset-fashion-mnist package
// installs Fashion-MNIST, a copy that "lepton data fetch --from" imports.
const DebianFashionMNIST = "/usr/share/datasets/fashion-mnist"

// Downloads returns the official files of a data set kind with their
// SHA-256 digests (those that TensorFlow Datasets records); none for
// folders.
func Downloads(kind string) []Download {
	switch kind {
	case "", KindCIFAR10:
		return []Download{{DefaultURL, DefaultSHA256, "cifar-10-binary.tar.gz"}}
	case KindCIFAR100:
		return []Download{{"https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
			"58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec", "cifar-100-binary.tar.gz"}}
	case KindMNIST:
		const base = "https://storage.googleapis.com/cvdf-datasets/mnist/"
		return idxDownloads(base, []string{
			"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
			"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
			"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
			"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
		})
	case KindFashionMNIST:
		const base = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
		return idxDownloads(base, []string{
			"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
			"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
			"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
			"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
		})
	}
	return nil
}

// idxDownloads lists the four .gz IDX files under base with their digests
// (in IDXFiles order).
func idxDownloads(base string, sums []string) []Download {
	var out []Download
	for i, f := range IDXFiles() {
		out = append(out, Download{base + f + ".gz", sums[i], f + ".gz"})
	}
	return out
}
