package config

// Overrides from the environment (LEPTON_*) and from --set key=value.

import (
	"fmt"
	"strings"
)

// fromEnv reads the LEPTON_* variables of known keys from env, in key
// order, with a problem for each value of the wrong type.
func fromEnv(env []string) ([]setting, []*Error) {
	if len(env) == 0 {
		return nil, nil
	}
	entries := make(map[string]string)
	for _, e := range env {
		if name, _, ok := strings.Cut(e, "="); ok && strings.HasPrefix(name, envPrefix) {
			entries[name] = e
		}
	}
	var (
		out  []setting
		errs []*Error
	)
	for _, s := range keys {
		name := s.envName()
		entry, ok := entries[name]
		if name == "" || !ok {
			continue
		}
		v, shown, ok := s.kind.fromText(entry[len(name)+1:])
		if !ok {
			errs = append(errs, &Error{File: clip(entry), Key: s.key, Msg: s.kind.want(), Value: shown})
			continue
		}
		out = append(out, setting{key: s.key, value: v, source: clip(entry)})
	}
	return out, errs
}

// parseSet reads one "key=value" set.
func parseSet(raw string) (setting, *Error) {
	src := clip(setPrefix + raw)
	k, text, ok := strings.Cut(raw, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return setting{}, &Error{File: src, Msg: "want key=value"}
	}
	spec, known := lookupKey(k)
	switch {
	case known:
	case isSection(k):
		return setting{}, &Error{File: src, Key: k,
			Msg: fmt.Sprintf("%s is a section, not a key; set one of its keys, e.g. %s", k, firstKeyUnder(k))}
	default:
		return setting{}, &Error{File: src, Key: clip(k), Msg: unknownKey(k)}
	}
	v, shown, ok := spec.kind.fromText(text)
	if !ok {
		return setting{}, &Error{File: src, Key: k, Msg: spec.kind.want(), Value: shown}
	}
	return setting{key: k, value: v, source: src}, nil
}
