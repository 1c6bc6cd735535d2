// Package checkpoint saves and loads lepton model checkpoints.
//
// A checkpoint is a single file in the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON header (padded with spaces to a multiple of 8),
// then the raw little-endian tensor data. All tensors are F32, stored
// contiguously in name order, so the files load in PyTorch's safetensors
// library. Serialization and parsing use github.com/nlpodyssey/safetensors.
//
// The header's "__metadata__" object holds, as strings:
//
//	format         "lepton"
//	format_version FormatVersion, decimal
//	config         the resolved YAML config (resume and provenance only)
//	model          the model description, a JSON object (ModelCard):
//	               architecture, input {height, width, channels, layout},
//	               normalization {mean, std} per channel, hidden sizes,
//	               activation, leaky_slope, batch_norm, bn_eps, classes,
//	               data {dataset, location, ...}
//	epoch, step    decimal integers
//	metrics        JSON object; non-finite values are the strings "NaN", "+Inf", "-Inf"
//	state          opaque JSON training state (absent when empty)
//	data_sha256    hex SHA-256 of the whole data section
//	header_sha256  hex SHA-256 of a canonical encoding of all other metadata
//	               entries and the tensor index (names, dtypes, shapes,
//	               offsets), so that damage to the header is detected too
//
// Format 1 files have no "model" entry but "classes" (JSON array) and
// "mean", "std" (three numbers each); Load reads them too.
//
// Save writes atomically and deterministically: the same Checkpoint always
// produces the same bytes. Load verifies the structure, both checksums and
// the metadata, and reports any problem as an error wrapping ErrCorrupt or
// ErrVersion.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
)

// FormatVersion is the checkpoint format version this build writes.
// Version 2 added the model description (Meta.Model); version 1 stored the
// class names and a three-channel normalization beside the config, from
// which Load derives the description.
const FormatVersion = 2

// ReadVersions are the format versions Load reads, oldest first.
var ReadVersions = []int{1, 2}

// ErrCorrupt is wrapped by Load errors for files that are damaged or are not
// lepton checkpoints.
var ErrCorrupt = errors.New("corrupt checkpoint")

// ErrVersion is wrapped by Load errors for lepton checkpoints written in a
// format version this build cannot read.
var ErrVersion = errors.New("unsupported checkpoint format version")

// Tensor is a named float32 tensor stored in row-major (C) order.
type Tensor struct {
	// Name uses PyTorch naming, e.g. "layers.0.weight".
	Name string
	// Shape lists the dimensions; an empty shape is a scalar.
	Shape []int
	// Data holds product(Shape) values.
	Data []float32
}

// Checkpoint is a model's weights plus the metadata needed to use or resume it.
type Checkpoint struct {
	// Tensors holds weights as float32 with PyTorch naming, e.g.
	// "layers.0.weight" [out,in] and "layers.0.bias" [out], plus optional
	// optimizer state such as "optim.m.layers.0.weight". Names must be
	// unique. Load returns them sorted by name.
	Tensors []Tensor
	// Meta is the checkpoint metadata.
	Meta Meta
}

// Meta is the metadata stored alongside the tensors.
type Meta struct {
	// FormatVersion is the checkpoint format version. Save accepts 0 or
	// one of ReadVersions (a loaded checkpoint) and always writes
	// FormatVersion; Load sets the file's.
	FormatVersion int `json:"format_version"`
	// Config is the resolved YAML config the model was trained with, kept
	// for resuming the run and as its provenance. Using the model needs
	// only Model: nothing reads Config to build the network.
	Config string `json:"config"`
	// Model describes the network: architecture, input, normalization,
	// class names and the data set it was trained on. Save requires a
	// valid one; Load always sets it (derived from the config, classes and
	// normalization of a format 1 checkpoint).
	Model ModelCard `json:"model"`
	// Epoch is the number of completed epochs.
	Epoch int `json:"epoch"`
	// Step is the number of optimizer steps done.
	Step int64 `json:"step"`
	// Metrics holds evaluation results, e.g. "val_acc".
	Metrics map[string]float64 `json:"metrics"`
	// State is opaque training state (optimizer/rng/schedule) for exact
	// resume. It must be valid JSON when not empty and is stored verbatim.
	State json.RawMessage `json:"state,omitempty"`
}

// Tensor returns the tensor called name. The result points into c.Tensors;
// a missing tensor is an error matching ErrUnusable.
func (c *Checkpoint) Tensor(name string) (*Tensor, error) {
	for i := range c.Tensors {
		if c.Tensors[i].Name == name {
			return &c.Tensors[i], nil
		}
	}
	return nil, Unusable(fmt.Errorf("checkpoint has no tensor %q", name))
}
