package config

import (
	"errors"
	"testing"
)

func TestFitData(t *testing.T) {
	m := Default().Model
	tests := []struct {
		name           string
		input, classes int
		want           string
	}{
		{name: "fits", input: m.Input, classes: m.Classes},
		{name: "other image size", input: 784, classes: m.Classes, want: "model.input: must equal the 784 values of the data's 28x28x1 images, got 3072"},
		{name: "other class count", input: m.Input, classes: 100, want: "model.classes: must equal the 100 classes of the data, got 10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.FitData("28x28x1", tc.input, tc.classes)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("FitData: %v", err)
				}
				return
			}
			var cfgErr *Error
			if !errors.As(err, &cfgErr) || err.Error() != tc.want {
				t.Fatalf("FitData error %v (%T), want *Error %q", err, err, tc.want)
			}
		})
	}
}
