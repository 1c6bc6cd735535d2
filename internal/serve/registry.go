package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// ModelSpec names a model and the checkpoint file it is served from.
type ModelSpec struct {
	// Name is the model's name in URLs; empty takes the name in the
	// checkpoint's config.
	Name string
	// Path is the checkpoint file, reloaded when it changes.
	Path string
}

// validName is what a model name may look like: one URL path segment.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckName reports whether name can name a model in URLs.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("model name %q: want letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)", name)
	}
	return nil
}

// ModelError reports a model that could not be loaded when the server
// starts.
type ModelError struct{ Err error }

func (e *ModelError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ModelError) Unwrap() error { return e.Err }

// defaultName is a model's name when --name does not give one: the run
// name in its stored training config, else "model".
func defaultName(m *classifier.Model) string {
	var c struct {
		Name string `yaml:"name"`
	}
	if yaml.Unmarshal([]byte(m.TrainConfig), &c) == nil && CheckName(c.Name) == nil {
		return c.Name
	}
	return "model"
}

// Model is one loaded version of a named model. It is immutable once
// published; its network is used under its batcher's exec lock only.
type Model struct {
	Name     string
	Path     string
	Digest   string // hex SHA-256 of the checkpoint file
	Version  string // the digest's first 12 hex digits
	Geometry data.Geometry
	Classes  []string
	Fit      imaging.Fit // how uploads of another aspect ratio are fitted
	LoadedAt time.Time

	net *classifier.Model
}

// entry is a named model slot: the version being served and its batcher.
type entry struct {
	name    string
	path    string
	cur     atomic.Pointer[Model]
	batcher *batcher
	mu      sync.Mutex // serializes reloads
	refused string     // digest of the last checkpoint refused, not retried on file events
}

// registry holds the served models.
type registry struct {
	entries map[string]*entry
	names   []string // sorted
	log     *slog.Logger
	metrics *metrics
	warm    int // batch sizes 1..warm are built before a model is published
}

// fileDigest returns the hex SHA-256 of the file at path.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// loadModel reads and verifies a checkpoint (classifier.Load checks its
// structure and both stored SHA-256 digests) and readies its inference
// graphs for batch sizes 1..warm. The file's digest is taken before and
// after loading; a file replaced meanwhile is read again.
func loadModel(name, path string, warm int) (*Model, error) {
	for attempt := 0; ; attempt++ {
		before, err := fileDigest(path)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		net, _, err := classifier.Load(path)
		if err != nil {
			return nil, err
		}
		after, err := fileDigest(path)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		if before != after {
			net.Close()
			if attempt < 3 {
				continue
			}
			return nil, fmt.Errorf("checkpoint %s: changed while being read", path)
		}
		g := net.Geometry
		if name == "" {
			name = defaultName(net)
		}
		if err := CheckName(name); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		fit := net.ImageShape().Fit
		m := &Model{
			Name: name, Path: path, Digest: before, Version: before[:12],
			Geometry: g, Classes: net.Classes, Fit: fit, LoadedAt: time.Now(), net: net,
		}
		if err := warmUp(net, warm); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		return m, nil
	}
}

// warmUp runs the network once for every batch size up to n, so that its
// graphs exist before the model serves (no compile pause under load).
func warmUp(net *classifier.Model, n int) error {
	for b := 1; b <= n; b++ {
		err := net.Logits(context.Background(), b, func(int, []float32) {}, func(int, []float32) {})
		if err != nil {
			return fmt.Errorf("warm up batch %d: %w", b, err)
		}
	}
	return nil
}

// newRegistry loads every model; any failure is returned (the server does
// not start with a model missing).
func newRegistry(specs []ModelSpec, warm int, log *slog.Logger, m *metrics) (*registry, error) {
	r := &registry{entries: map[string]*entry{}, log: log, metrics: m, warm: warm}
	for _, s := range specs {
		mod, err := loadModel(s.Name, s.Path, warm)
		if err != nil {
			return nil, &ModelError{err}
		}
		if _, dup := r.entries[mod.Name]; dup {
			return nil, fmt.Errorf("model name %q given twice", mod.Name)
		}
		e := &entry{name: mod.Name, path: s.Path}
		e.cur.Store(mod)
		r.entries[mod.Name] = e
		r.names = append(r.names, mod.Name)
		m.modelInfo.WithLabelValues(mod.Name, mod.Version).Set(1)
		log.Info("model loaded", "model", mod.Name, "checkpoint", s.Path, "version", mod.Version,
			"input", fmt.Sprintf("%dx%dx%d", mod.Geometry.Height, mod.Geometry.Width, mod.Geometry.Channels),
			"classes", len(mod.Classes))
	}
	sort.Strings(r.names)
	return r, nil
}

// errUnchanged reports a reload of a file whose digest has not changed.
var errUnchanged = errors.New("checkpoint unchanged")

// reload loads the entry's checkpoint again if its digest changed and
// publishes it. A file that cannot be read or fails verification is
// refused: the error is logged and counted and the old version keeps
// serving.
func (r *registry) reload(e *entry, why string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.cur.Load()
	digest, err := fileDigest(e.path)
	if err == nil && (digest == old.Digest || digest == e.refused && why != "signal") {
		return errUnchanged
	}
	var m *Model
	if err == nil {
		m, err = loadModel(e.name, e.path, r.warm)
	} else {
		err = fmt.Errorf("checkpoint %s: %w", e.path, err)
	}
	if err != nil {
		e.refused = digest
		r.metrics.reloadFailures.WithLabelValues(e.name).Inc()
		r.log.Error("reload refused, the old model keeps serving", "model", e.name, "trigger", why,
			"version", old.Version, "err", err)
		return err
	}
	e.cur.Store(m)
	r.metrics.reloads.WithLabelValues(e.name).Inc()
	r.metrics.modelInfo.DeleteLabelValues(e.name, old.Version)
	r.metrics.modelInfo.WithLabelValues(e.name, m.Version).Set(1)
	r.log.Info("model reloaded", "model", e.name, "trigger", why, "from", old.Version, "to", m.Version)
	return nil
}

// reloadAll reloads every model whose checkpoint changed.
func (r *registry) reloadAll(why string) {
	for _, name := range r.names {
		e := r.entries[name]
		if err := r.reload(e, why); errors.Is(err, errUnchanged) {
			r.log.Info("reload: checkpoint unchanged", "model", name, "trigger", why)
		}
	}
}
