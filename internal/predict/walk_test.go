package predict

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// symlink makes a symbolic link or skips the test where that is not
// allowed (Windows without the privilege).
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
}

// findWithin runs FindImages and fails instead of hanging if it loops.
func findWithin(t *testing.T, dir string) []string {
	t.Helper()
	type result struct {
		files []string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		files, err := FindImages(dir)
		done <- result{files, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("FindImages(%s): %v", dir, r.err)
		}
		return r.files
	case <-time.After(10 * time.Second):
		t.Fatalf("FindImages(%s) still walking after 10s (a symlink loop?)", dir)
		return nil
	}
}

func TestFindImagesFollowsSymlinks(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	writePNG(t, filepath.Join(root, "a.png"), cifarImage(1))
	writePNG(t, filepath.Join(root, "sub", "b.JPG"), cifarImage(2))
	writePNG(t, filepath.Join(outside, "c.gif"), cifarImage(3))
	symlink(t, "..", filepath.Join(root, "sub", "up"))         // loop to the root
	symlink(t, ".", filepath.Join(root, "sub", "self"))        // loop to itself
	symlink(t, "sub", filepath.Join(root, "shortcut"))         // inside the tree: listed via sub
	symlink(t, "../outside", filepath.Join(root, "ext"))       // outside: followed
	symlink(t, "../outside", filepath.Join(root, "ext2"))      // the same again: listed once
	symlink(t, "../root", filepath.Join(outside, "back"))      // back into the tree
	symlink(t, "nowhere.png", filepath.Join(root, "gone.png")) // dangling: kept, reported on read
	symlink(t, "a.png", filepath.Join(root, "alias.png"))      // a link to a file is a file
	symlink(t, "root", filepath.Join(base, "link"))            // the root through a link
	symlink(t, "..", filepath.Join(outside, "parent"))         // outside's parent holds root too

	tests := []struct {
		name string
		dir  string
		want []string
	}{
		{name: "tree with links and loops", dir: root, want: []string{
			"root/a.png", "root/alias.png", "root/ext/c.gif", "root/gone.png", "root/sub/b.JPG",
		}},
		{name: "directory given as a symlink", dir: filepath.Join(base, "link"), want: []string{
			"link/a.png", "link/alias.png", "link/ext/c.gif", "link/gone.png", "link/sub/b.JPG",
		}},
		{name: "links leading back into a walked tree", dir: outside, want: []string{
			"outside/back/a.png", "outside/back/alias.png", "outside/back/gone.png", "outside/back/sub/b.JPG", "outside/c.gif",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := findWithin(t, tc.dir)
			for i := range got {
				rel, err := filepath.Rel(base, got[i])
				if err != nil {
					t.Fatal(err)
				}
				got[i] = filepath.ToSlash(rel)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("FindImages(%s) =\n  %q\nwant\n  %q", tc.dir, got, tc.want)
			}
		})
	}
}

// TestInputsDirectorySymlink is the reproduction of issue 10: "predict DIR"
// where DIR is a symlink to a directory found no images.
func TestInputsDirectorySymlink(t *testing.T) {
	base := t.TempDir()
	writePNG(t, filepath.Join(base, "real", "x.png"), cifarImage(1))
	symlink(t, "real", filepath.Join(base, "link"))
	in, err := Inputs([]string{filepath.Join(base, "link")}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 1 || in[0].Err != nil || in[0].Path != filepath.Join(base, "link", "x.png") {
		t.Fatalf("Inputs = %+v, want link/x.png", in)
	}
}

// headerBomb is a PNG signature and IHDR claiming w x h 8-bit grey pixels,
// then a broken IDAT: Decode must refuse it from the header alone.
func headerBomb(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	return append(b, chunk("IDAT", []byte{0x78, 0x9c})...)
}

// TestRunBombsKeepOtherOutputs checks that image bombs on the command line
// are reported one line each while the other images are still classified
// (a 1x40,000,000 PNG used to kill the process, and every output with it).
func TestRunBombsKeepOtherOutputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var paths []string
	for _, s := range [][2]uint32{{1, 40_000_000}, {40_000_000, 1}, {16, 2_500_000}} {
		name := "bomb-" + itoa(s[0]) + "x" + itoa(s[1]) + ".png"
		if err := os.WriteFile(name, headerBomb(s[0], s[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		writePNG(t, "ok-"+name, cifarImage(int(s[0]%7)))
		paths = append(paths, name, "ok-"+name)
	}
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), Options{Model: exactModel(t), Paths: paths, Output: "json", Stdout: &stdout, Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "3 of 6 inputs") {
		t.Fatalf("Run error %v, want 3 of 6 inputs failed", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d output lines, want 6:\n%s", len(lines), stdout.String())
	}
	for i, l := range lines {
		bomb := i%2 == 0
		if bomb != strings.Contains(l, `"error":"bomb-`) || bomb == strings.Contains(l, `"top":`) {
			t.Errorf("line %d = %s", i, l)
		}
	}
	for _, want := range []string{
		"lepton: bomb-1x40000000.png: image is 1x40000000 pixels, an aspect ratio beyond the 100:1 allowed",
		"lepton: bomb-40000000x1.png: image is 40000000x1 pixels, an aspect ratio beyond the 100:1 allowed",
		"lepton: bomb-16x2500000.png: image is 16x2500000 pixels, an aspect ratio beyond the 100:1 allowed",
	} {
		if !strings.Contains(stderr.String(), want+"\n") {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
