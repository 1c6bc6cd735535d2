//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// syncDir fsyncs the directory dir so that a rename inside it is durable.
// File systems that do not support fsync on directories are tolerated.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
