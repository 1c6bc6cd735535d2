package config

// Validating a resolved configuration against every key's rules.

// Validate checks every key against its constraints, including those
// between keys, and returns the violations, in schema order: one as an
// *Error, several as Errors. An error about two keys names both.
func (c *Config) Validate() error {
	return join(c.validate(nil), "")
}

// origin is where a key's resolved value came from.
type origin struct {
	source string // Error.File for problems with the value
	line   int    // Error.Line
	seq    int    // when the value was applied; later values win, 0 = default
}

// validate is Validate with the origin of each key for error messages: at
// most one violation per key, none between two keys when either breaks its
// own rules. A violation between two keys is blamed on whichever of them
// was set last.
func (c *Config) validate(origins map[string]origin) []*Error {
	perKey := make([]*Error, len(keys)) // at most one per key, in schema order
	failed := make(map[string]bool)     // keys breaking their own rules
	for i, s := range keys {
		f, ok := field(c, s.key)
		if !ok {
			perKey[i] = &Error{Key: s.key, Msg: "no such Config field"}
			failed[s.key] = true
			continue
		}
		v := f.Interface()
		if r, bad := failedRule(s.rules, v); bad {
			o := origins[s.key]
			perKey[i] = &Error{File: o.source, Line: o.line, Key: s.key, Msg: r.msg, Value: formatValue(v)}
			failed[s.key] = true
		}
	}
	for i, s := range keys {
		if failed[s.key] {
			continue // its constraints with other keys say nothing more
		}
		for _, r := range s.cross {
			if failed[r.other] {
				continue // the other key's own error says it
			}
			if msg := r.check(c); msg != "" {
				o := origins[s.key]
				if other := origins[r.other]; other.seq > o.seq {
					o = other
				}
				perKey[i] = &Error{File: o.source, Line: o.line, Key: s.key, Msg: msg}
				break
			}
		}
	}
	var errs []*Error
	for _, e := range perKey {
		if e != nil {
			errs = append(errs, e)
		}
	}
	return errs
}

// failedRule returns the first of rules that v breaks.
func failedRule(rules []rule, v any) (rule, bool) {
	for _, r := range rules {
		if !r.ok(v) {
			return r, true
		}
	}
	return rule{}, false
}
