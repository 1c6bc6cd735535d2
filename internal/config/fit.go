package config

import "fmt"

// FitData checks the model config against the data it is to be trained on:
// model.input must equal the number of values per image (height x width x
// channels, described by geometry, e.g. "32x32x3") and model.classes the
// number of classes. A mismatch is an *Error naming the key, so that it is
// reported (and exits) like any other configuration mistake.
func (m Model) FitData(geometry string, inputValues, classes int) error {
	if m.Classes != classes {
		return &Error{Key: "model.classes", Value: fmt.Sprint(m.Classes),
			Msg: fmt.Sprintf("must equal the %d classes of the data", classes)}
	}
	if m.Input != inputValues {
		return &Error{Key: "model.input", Value: fmt.Sprint(m.Input),
			Msg: fmt.Sprintf("must equal the %d values of the data's %s images", inputValues, geometry)}
	}
	return nil
}
