package serve

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long a checkpoint's directory must be quiet after a change
// before the file is read, so that a file being written is read whole.
const settle = 250 * time.Millisecond

// watch reloads models on opts.Reload (SIGHUP: every model and the token
// file) and, with opts.Watch, when something changes in a checkpoint's
// directory (replacing the file by rename, as lepton's own writes do, or
// writing it in place). A reload that finds the same digest does nothing.
func (s *server) watch(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var errs <-chan error
	dirs := map[string][]*entry{} // watched directory -> its models
	if s.opts.Watch {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			s.log.Warn("checkpoint watching is off; reload with SIGHUP", "err", err)
		} else {
			defer w.Close()
			for _, name := range s.reg.names {
				e := s.reg.entries[name]
				dir := filepath.Dir(e.path)
				if _, ok := dirs[dir]; !ok {
					if err := w.Add(dir); err != nil {
						s.log.Warn("cannot watch checkpoint directory; reload with SIGHUP", "dir", dir, "err", err)
						continue
					}
				}
				dirs[dir] = append(dirs[dir], e)
			}
			events, errs = w.Events, w.Errors
		}
	}
	pending := map[string]time.Time{} // directory -> when it settles
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.opts.Reload:
			s.log.Info("reload requested (SIGHUP)")
			if err := s.auth.reload(); err != nil {
				s.log.Error("token file not reloaded, the old tokens stay", "err", err)
			}
			s.reg.reloadAll("signal")
		case ev := <-events:
			dir := filepath.Dir(ev.Name)
			for _, e := range dirs[dir] {
				if concerns(ev, e.path) {
					pending[dir] = time.Now().Add(settle)
					timer.Reset(settle)
					break
				}
			}
		case err := <-errs:
			s.log.Warn("checkpoint watcher", "err", err)
		case <-timer.C:
			now := time.Now()
			next := time.Duration(0)
			for dir, at := range pending {
				if wait := at.Sub(now); wait > 0 {
					if next == 0 || wait < next {
						next = wait
					}
					continue
				}
				delete(pending, dir)
				for _, e := range dirs[dir] {
					s.reg.reload(e, "file change")
				}
			}
			if next > 0 {
				timer.Reset(next)
			}
		}
	}
}

// concerns reports whether a directory event may have changed the
// checkpoint at path: an event on the file itself, or any event when the
// path is a symbolic link (Kubernetes volumes swap a link to a directory).
func concerns(ev fsnotify.Event, path string) bool {
	if filepath.Base(ev.Name) == filepath.Base(path) {
		return true
	}
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}
