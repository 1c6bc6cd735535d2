package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a configuration error: an unreadable or malformed config file, an
// unknown key, a value of the wrong type or a value failing validation. Use
// errors.As to detect it (for example to pick an exit code).
//
// Error() renders one line: "File:Line: Key: Msg, got Value: Err", leaving
// out empty parts. The key is also left out when File is a --set that already
// spells it ("--set train.epoch=3: unknown key ...").
type Error struct {
	// File is where the offending value came from: the config file path,
	// "--set key=value" for a set, "NAME=value" for an environment variable;
	// empty when unknown (e.g. Validate on a Config built in code).
	File string
	// Line is the 1-based line of File where the key is, 0 when unknown
	// or not a file.
	Line int
	// Key is the full dotted key path, e.g. "train.optimizer.lr"; empty for
	// errors about a whole file or a malformed set.
	Key string
	// Value is the offending value as shown to the user (strings quoted);
	// empty when there is none.
	Value string
	// Msg says what is wrong, e.g. "must be > 0" or "unknown key".
	Msg string
	// Err is the underlying error, if any (e.g. the os or YAML error).
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var parts []string
	switch {
	case e.File != "" && e.Line > 0:
		parts = append(parts, e.File+":"+strconv.Itoa(e.Line))
	case e.File != "":
		parts = append(parts, e.File)
	}
	if e.Key != "" && !strings.HasPrefix(e.File, setPrefix+e.Key+"=") {
		parts = append(parts, e.Key)
	}
	msg := e.Msg
	if e.Value != "" {
		msg += ", got " + e.Value
	}
	if msg != "" {
		parts = append(parts, msg)
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	return oneLine(strings.Join(parts, ": "))
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errors are several configuration errors, reported together so that a
// config with several mistakes is fixed in one go. Error() puts each on
// its own line; errors.As finds the first *Error.
type Errors []*Error

// Error implements error.
func (l Errors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors.
func (l Errors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// join returns nil for no errors, the *Error itself for one, Errors for
// several. Errors of one file come first, in line order, then the others
// (environment, sets, validation without a file line) in their order.
func join(list []*Error, file string) error {
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	sorted := slices.Clone(list)
	slices.SortStableFunc(sorted, func(a, b *Error) int {
		ka, kb := a.File == file && a.Line > 0, b.File == file && b.Line > 0
		switch {
		case ka && kb:
			return cmp.Compare(a.Line, b.Line)
		case ka:
			return -1
		case kb:
			return 1
		}
		return 0
	})
	return Errors(sorted)
}

// setPrefix starts the File of errors caused by a --set.
const setPrefix = "--set "

// maxShown bounds user-controlled text (keys, values, sources) in messages.
const maxShown = 120

// oneLine replaces line breaks so an error always prints on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// clip shortens s to at most maxShown bytes (on a rune boundary), marking the
// cut with "...".
func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// unknownKey returns the message for an unknown key, with a suggestion when a
// known key or section is close.
func unknownKey(path string) string {
	if s := suggest(path); s != "" {
		return "unknown key (did you mean " + s + "?)"
	}
	return "unknown key"
}

// suggest returns the known key or section closest to path, or "" when none
// is close enough. Besides small typos it recognises a known leaf name under
// the wrong section ("optimizer.lr" -> "train.optimizer.lr").
func suggest(path string) string {
	if path == "" || len(path) > 2*maxShown {
		return ""
	}
	lower := strings.ToLower(path)
	known := knownPaths()
	best, bestD := "", -1
	for _, p := range known {
		if d := editDistance(lower, p); bestD < 0 || d < bestD {
			best, bestD = p, d
		}
	}
	if bestD >= 0 && bestD <= maxTypos(lower) {
		return best
	}
	last := lower[strings.LastIndex(lower, ".")+1:]
	for _, p := range known {
		if p[strings.LastIndex(p, ".")+1:] == last {
			return p
		}
	}
	return ""
}

// maxTypos is how many edits may separate a key from its suggestion.
func maxTypos(path string) int {
	return min(1+len(path)/6, 3)
}

// editDistance is the optimal-string-alignment distance between a and b over
// bytes: insertions, deletions, substitutions and adjacent transpositions
// each cost one.
func editDistance(a, b string) int {
	rows := [3][]int{}
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
	}
	pp, prev, cur := rows[0], rows[1], rows[2]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(b)]
}
