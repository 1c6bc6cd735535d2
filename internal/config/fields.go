package config

import (
	"fmt"
	"reflect"
	"strings"
)

// nest turns dotted settings into the nested map viper merges.
func nest(settings []setting) map[string]any {
	root := map[string]any{}
	for _, s := range settings {
		parts := strings.Split(s.key, ".")
		m := root
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = s.value
	}
	return root
}

// field finds the Config field for a dotted key via the mapstructure tags.
func field(c *Config, key string) (reflect.Value, bool) {
	v := reflect.ValueOf(c).Elem()
	for _, part := range strings.Split(key, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		found := false
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("mapstructure"), ",")
			if tag == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}

// setField stores value in the Config field for key.
func setField(c *Config, key string, value any) error {
	f, ok := field(c, key)
	if !ok {
		return fmt.Errorf("set %s: no such Config field", key)
	}
	rv := reflect.ValueOf(value)
	if !rv.IsValid() || rv.Type() != f.Type() {
		return fmt.Errorf("set %s: want %s, got %T", key, f.Type(), value)
	}
	f.Set(rv)
	return nil
}
