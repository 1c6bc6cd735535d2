package run

import (
	"encoding/json"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
)

// editState returns ck with the training-state key set to the JSON raw.
func editState(t *testing.T, ck *checkpoint.Checkpoint, key, raw string) *checkpoint.Checkpoint {
	t.Helper()
	var st map[string]json.RawMessage
	if err := json.Unmarshal(ck.Meta.State, &st); err != nil {
		t.Fatal(err)
	}
	st[key] = json.RawMessage(raw)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	out := *ck
	out.Meta.State = b
	return &out
}
