package config

import (
	"errors"
	"reflect"
	"testing"

	"github.com/lepton-cli/lepton/internal/data"
)

func TestDataSpec(t *testing.T) {
	c, err := Load(LoadOptions{Sets: []string{"data.dataset=folder", "data.dir=/p", "data.image_size=[24,40]", "data.channels=1",
		"data.resize=pad", "data.test_split=0.3", "data.on_error=fail", "seed=7"}})
	if err != nil {
		t.Fatal(err)
	}
	want := data.Spec{Kind: "folder", Dir: "/p", Label: "fine", Height: 24, Width: 40, Channels: 1, Resize: "pad",
		TestSplit: 0.3, Seed: 7, OnError: "fail"}
	if got := c.DataSpec(); !reflect.DeepEqual(got, want) {
		t.Fatalf("DataSpec = %+v, want %+v", got, want)
	}
}

// TestFitData checks that a run's config follows its data, and that
// model.input or model.classes set against the data is a config error
// naming both values.
func TestFitData(t *testing.T) {
	mnist := data.Geometry{Height: 28, Width: 28, Channels: 1}
	tests := []struct {
		name string
		sets []string
		want string // error; "" for success
	}{
		{name: "defaults follow the data", sets: []string{"data.dataset=mnist"}},
		{name: "consistent values", sets: []string{"data.dataset=mnist", "model.input=784", "model.classes=10"}},
		{name: "input of another data set", sets: []string{"data.dataset=mnist", "model.input=3072"},
			want: "model.input: is 3072, but the images of data set mnist (28x28, 1 channel) have 784 values; leave model.input out to follow the data"},
		{name: "classes of another data set", sets: []string{"data.dataset=mnist", "model.classes=100"},
			want: "model.classes: is 100, but data set mnist has 10 classes; leave model.classes out to follow the data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(LoadOptions{Sets: tc.sets})
			if err != nil {
				t.Fatal(err)
			}
			err = c.FitData("/data/mnist", mnist, 10)
			if tc.want != "" {
				var ce *Error
				if err == nil || !errors.As(err, &ce) || err.Error() != tc.want {
					t.Fatalf("err = %v, want a config error %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Model.Input != 784 || c.Model.Classes != 10 || c.Data.Dir != "/data/mnist" ||
				!reflect.DeepEqual(c.Data.ImageSize, []int{28, 28}) || c.Data.Channels != 1 {
				t.Fatalf("fitted config %+v / %+v", c.Data, c.Model)
			}
			// The fitted config round-trips: what config.yaml records.
			y, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(y)
			if err != nil || !reflect.DeepEqual(back, c) {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

func TestFollowsData(t *testing.T) {
	c, _ := Load(LoadOptions{Sets: []string{"data.dataset=mnist"}})
	fitted := *c
	if err := fitted.FitData("/m", data.Geometry{Height: 28, Width: 28, Channels: 1}, 10); err != nil {
		t.Fatal(err)
	}
	for _, d := range Diff(&fitted, c) {
		if !FollowsData(d) {
			t.Errorf("%+v is not FitData's doing", d)
		}
	}
	other := *c
	other.Model.Input = 3072
	for _, d := range Diff(&fitted, &other) {
		if d.Key == "model.input" && FollowsData(d) {
			t.Errorf("an explicit model.input counts as following the data")
		}
	}
}
