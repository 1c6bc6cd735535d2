package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Mkdir creates the directory dir with the content fill gives it, so that
// dir never exists without that content: fill populates a new hidden
// temporary sibling directory (its argument), which is then renamed to dir
// and the parent directory fsynced. A crash leaves either no dir (and
// perhaps the temporary sibling, named ".<base>.tmp<random>") or the whole
// of it.
//
// dir's parent must exist. If dir already exists, Mkdir fails with an
// error matching fs.ErrExist and changes nothing (an empty dir created
// while fill ran may be replaced). If fill fails, the temporary directory
// is removed and fill's error is returned wrapped.
func Mkdir(dir string, perm fs.FileMode, fill func(tmp string) error) (err error) {
	if fill == nil {
		return fmt.Errorf("create %s: nil fill function", dir)
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("create %s: %w", dir, fs.ErrExist)
	}
	parent := filepath.Dir(dir)
	var tmp string
	for range maxTempAttempts {
		tmp = filepath.Join(parent, "."+filepath.Base(dir)+".tmp"+strconv.FormatUint(rand.Uint64(), 36))
		if err = os.Mkdir(tmp, perm); err == nil || !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("create %s: temporary directory: %w", dir, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("sync directory %s: %w", tmp, err)
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("create %s: %w", dir, fs.ErrExist)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Lstat(dir); serr == nil {
			return fmt.Errorf("create %s: %w", dir, fs.ErrExist)
		}
		return fmt.Errorf("create %s: %w", dir, err)
	}
	renamed = true
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("sync directory %s after creating %s: %w", parent, filepath.Base(dir), err)
	}
	return nil
}
