// Command datafolder writes a data set that lepton reads (MNIST,
// Fashion-MNIST, CIFAR-10, CIFAR-100) as an image folder, OUT/train/<class>/
// and OUT/test/<class>/, one PNG (or JPEG) file per image: the folder
// version of a benchmark, to check that training on folders matches
// training on the original files.
//
//	go run ./scripts/datafolder -dataset fashion-mnist -data /work/shared/data/fashion-mnist -out /tmp/fashion-png
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lepton-cli/lepton/internal/data"
)

func main() {
	kind := flag.String("dataset", data.KindFashionMNIST, "data set kind")
	dir := flag.String("data", "", "data set directory")
	out := flag.String("out", "", "folder to write (must not exist)")
	format := flag.String("format", "png", "png or jpg")
	flag.Parse()
	if err := run(*kind, *dir, *out, *format); err != nil {
		fmt.Fprintln(os.Stderr, "datafolder:", err)
		os.Exit(1)
	}
}

func run(kind, dir, out, format string) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists", out)
	}
	src, err := data.Open(data.Spec{Kind: kind, Dir: dir})
	if err != nil {
		return err
	}
	start := time.Now()
	for _, split := range []string{data.SplitTrain, data.SplitTest} {
		d, err := src.Split(context.Background(), split)
		if err != nil {
			return err
		}
		if err := data.WriteFolder(filepath.Join(out, split), d, format); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %d %s images to %s\n", d.Len(), split, filepath.Join(out, split))
	}
	fmt.Fprintf(os.Stderr, "done in %.1fs\n", time.Since(start).Seconds())
	return nil
}
