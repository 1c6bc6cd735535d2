package checkpoint

import "errors"

// ErrUnusable is matched (with errors.Is) by every error that keeps a
// checkpoint from being used: a missing or unreadable file, a damaged one
// (ErrCorrupt), another format version (ErrVersion), another kind of file
// (an ONNX model, an image), and, marked by the packages that find them
// with Unusable, a stored config or tensors that do not describe a usable
// model, or a checkpoint that does not fit the run it should continue.
var ErrUnusable = errors.New("unusable checkpoint")

// unusableError marks an error as ErrUnusable while keeping its message.
type unusableError struct{ err error }

func (e unusableError) Error() string { return e.err.Error() }

func (e unusableError) Unwrap() []error { return []error{e.err, ErrUnusable} }

// Unusable marks err as ErrUnusable (keeping its message), unless it is nil
// or already marked.
func Unusable(err error) error {
	if err == nil || errors.Is(err, ErrUnusable) {
		return err
	}
	return unusableError{err}
}
