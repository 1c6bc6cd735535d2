package data

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lepton-cli/lepton/internal/atomicfile"
)

// The cache of decoded folders: decoding a folder of JPEG files takes far
// longer than reading its decoded pixels back, so the first run on a
// folder writes them to CacheRoot/folders/<digest>/, one directory per
// folder, geometry and fit: images-<token>.u8 (the images of the usable
// files, in order, Geometry.Size() bytes each) and manifest.json (every
// file's path, size, modification time, class and decoding error, and the
// name of the images file). A later run uses the cache only when the folder
// still holds exactly those files with those sizes and times; any changed,
// added or removed file makes it decode again and replace the cache.
// Both files are written atomically, the manifest last, so a reader never
// sees a manifest without its images.

// cacheVersion changes whenever the cache's content would change.
const cacheVersion = 1

// CacheRoot returns lepton's cache directory, $XDG_CACHE_HOME/lepton or
// else ~/.cache/lepton, or "" (no cache) when neither variable is set;
// environment variables are read through getenv.
func CacheRoot(getenv func(string) string) string {
	if xdg := getenv("XDG_CACHE_HOME"); xdg != "" {
		return filepath.Join(xdg, "lepton")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".cache", "lepton")
	}
	return ""
}

// The states of a folder's cache, as CacheInfo.State says them.
const (
	CacheOff     = "off"     // no cache directory configured
	CacheMissing = "missing" // not decoded before (with this geometry and fit)
	CacheStale   = "stale"   // decoded before, but files changed since
	CacheValid   = "valid"   // holds the folder as it is (data info)
	CacheUsed    = "used"    // read instead of decoding
	CacheWritten = "written" // decoded and written
)

// CacheInfo describes the decode cache of a folder data set.
type CacheInfo struct {
	// Dir is the cache directory of this folder, geometry and fit.
	Dir string `json:"dir,omitempty"`
	// State is one of the Cache* states.
	State string `json:"state"`
}

// manifest is a cached folder's manifest.json.
type manifest struct {
	Version  int          `json:"version"`
	Dir      string       `json:"dir"`
	Geometry Geometry     `json:"geometry"`
	Resize   string       `json:"resize"`
	Classes  []string     `json:"classes"`
	Images   string       `json:"images"`
	Files    []folderFile `json:"files"`
}

// folderCache is the cache directory of one folder, geometry and fit.
type folderCache struct {
	dir string
}

// cache returns f's cache, or nil when the spec configures none.
func (f *folder) cache() *folderCache {
	if f.spec.CacheDir == "" {
		return nil
	}
	key := fmt.Sprintf("lepton folder cache %d\x00%s\x00%s\x00%s", cacheVersion, f.abs, f.g, f.fit)
	sum := sha256.Sum256([]byte(key))
	return &folderCache{dir: filepath.Join(f.spec.CacheDir, "folders", hex.EncodeToString(sum[:16]))}
}

// manifestFor returns the manifest describing f's current files.
func (f *folder) manifestFor(images string) manifest {
	return manifest{Version: cacheVersion, Dir: f.abs, Geometry: f.g, Resize: string(f.fit),
		Classes: f.classes, Images: images, Files: f.files}
}

// sameFiles reports whether a cached manifest lists exactly f's files:
// the same paths, classes, splits, sizes and modification times.
func (m *manifest) sameFiles(f *folder) bool {
	if m.Version != cacheVersion || m.Dir != f.abs || m.Geometry != f.g || m.Resize != string(f.fit) ||
		!slices.Equal(m.Classes, f.classes) || len(m.Files) != len(f.files) {
		return false
	}
	for i, c := range m.Files {
		w := f.files[i]
		scanErr := w.Error != "" // unusable already when scanned (not regular, dangling)
		if c.Rel != w.Rel || c.Class != w.Class || c.Test != w.Test || c.Size != w.Size || c.MTime != w.MTime ||
			(scanErr && c.Error != w.Error) {
			return false
		}
	}
	return true
}

// state tells whether the cache holds f as it is now, without reading the
// images.
func (c *folderCache) state(f *folder) string {
	m, err := c.manifest()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return CacheMissing
	case err != nil || !m.sameFiles(f):
		return CacheStale
	}
	if fi, err := os.Stat(filepath.Join(c.dir, m.Images)); err != nil || fi.Size() != int64(m.usable())*int64(f.g.Size()) {
		return CacheStale
	}
	return CacheValid
}

func (c *folderCache) manifest() (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(c.dir, "manifest.json"), err)
	}
	return &m, nil
}

// usable counts the files of m that were decoded.
func (m *manifest) usable() int {
	n := 0
	for _, f := range m.Files {
		if f.Error == "" {
			n++
		}
	}
	return n
}

// read fills f from the cache when it holds f's current files. It returns
// false with the cache's state (missing or stale) otherwise; an error only
// for a cache that exists but cannot be read.
func (c *folderCache) read(f *folder) (bool, string, error) {
	m, err := c.manifest()
	if errors.Is(err, fs.ErrNotExist) {
		return false, CacheMissing, nil
	}
	if err != nil {
		return false, CacheStale, err
	}
	if !m.sameFiles(f) || strings.ContainsAny(m.Images, `/\`) {
		return false, CacheStale, nil
	}
	want := int64(m.usable()) * int64(f.g.Size())
	p := filepath.Join(c.dir, m.Images)
	fh, err := os.Open(p)
	if err != nil {
		return false, CacheStale, err
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() != want {
		return false, CacheStale, fmt.Errorf("%s: not the %d bytes its manifest describes", p, want)
	}
	images := make([]byte, want)
	if _, err := io.ReadFull(fh, images); err != nil {
		return false, CacheStale, fmt.Errorf("read %s: %w", p, err)
	}
	for i := range f.files {
		f.files[i].Error = m.Files[i].Error
	}
	f.setCompact(images)
	return true, CacheUsed, nil
}

// write stores f's decoded images and manifest, replacing what the cache
// held; images files of earlier versions are removed afterwards.
func (c *folderCache) write(f *folder) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	var tok [8]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return err
	}
	images := "images-" + hex.EncodeToString(tok[:]) + ".u8"
	if err := atomicfile.WriteFile(filepath.Join(c.dir, images), f.all.Images, 0o644); err != nil {
		return err
	}
	b, err := json.Marshal(f.manifestFor(images))
	if err != nil {
		return fmt.Errorf("encode folder cache manifest: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(c.dir, "manifest.json"), b, 0o644); err != nil {
		_ = os.Remove(filepath.Join(c.dir, images))
		return err
	}
	old, _ := filepath.Glob(filepath.Join(c.dir, "images-*.u8"))
	for _, p := range old {
		if filepath.Base(p) != images {
			_ = os.Remove(p)
		}
	}
	return nil
}
