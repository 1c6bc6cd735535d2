package config

import (
	"fmt"
	"math"
	"strings"
)

// rule is one validation constraint. msg completes "key: ..." and reads like
// "must be > 0"; ok reports whether a value satisfies it.
type rule struct {
	msg string
	ok  func(v any) bool
}

// check builds a rule for values of type T; values of any other type fail.
func check[T any](msg string, ok func(T) bool) rule {
	return rule{msg: msg, ok: func(v any) bool {
		t, isT := v.(T)
		return isT && ok(t)
	}}
}

// crossRule is a constraint between a key and another key. doc documents it
// for Reference (like rule.msg); check returns "" when c satisfies it, else
// the message completing "key: ...", which names the other key and both
// values. other is the other key, whose source is blamed when the key itself
// was not set.
type crossRule struct {
	doc   string
	other string
	check func(c *Config) string
}

// dropoutPerLayer requires model.dropout to have 0, 1 or len(model.hidden)
// values.
func dropoutPerLayer() crossRule {
	return crossRule{
		doc:   "must have 0, 1 or len(model.hidden) values",
		other: "model.hidden",
		check: func(c *Config) string {
			n, h := len(c.Model.Dropout), len(c.Model.Hidden)
			if n <= 1 || n == h {
				return ""
			}
			return fmt.Sprintf("has %s but model.hidden has %s", plural(n, "value"), plural(h, "layer"))
		},
	}
}

// nesterovNeedsMomentum requires momentum when Nesterov momentum is on.
func nesterovNeedsMomentum() crossRule {
	return crossRule{
		doc:   "true requires train.optimizer.momentum > 0",
		other: "train.optimizer.momentum",
		check: func(c *Config) string {
			o := c.Train.Optimizer
			if !o.Nesterov || o.Momentum > 0 {
				return ""
			}
			return "true requires train.optimizer.momentum > 0, but it is " + formatValue(o.Momentum)
		},
	}
}

// needsValidation requires a validation split for a setting (value) that
// watches a validation metric: with data.val_split 0 the metric would stay
// 0 and still drive it. on reports whether the setting is in force and
// which metric it watches (its monitor key).
func needsValidation(value, monitorKey string, on func(*Config) (bool, string)) crossRule {
	return crossRule{
		doc:   value + " requires data.val_split > 0 (it watches a validation metric)",
		other: "data.val_split",
		check: func(c *Config) string {
			active, metric := on(c)
			if !active || c.Data.ValSplit > 0 {
				return ""
			}
			return fmt.Sprintf("%s watches %s (%s), which needs data.val_split > 0, but it is %s",
				value, monitorKey, metric, formatValue(c.Data.ValSplit))
		},
	}
}

// plural renders "1 value", "3 values".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func intAtLeast(n int) rule {
	return check(fmt.Sprintf("must be >= %d", n), func(v int) bool { return v >= n })
}

// zeroOrAtLeast accepts 0 (unset) or v >= n.
func zeroOrAtLeast(n int) rule {
	return check(fmt.Sprintf("must be 0 or >= %d", n), func(v int) bool { return v == 0 || v >= n })
}

// intOneOf accepts the listed values.
func intOneOf(values ...int) rule {
	var names []string
	for _, v := range values {
		names = append(names, fmt.Sprint(v))
	}
	return check("must be one of "+strings.Join(names, ", "), func(v int) bool {
		for _, x := range values {
			if v == x {
				return true
			}
		}
		return false
	})
}

// sizePair accepts an empty list or [height, width] with 1 <= each <= hi.
func sizePair(hi int) rule {
	return check(fmt.Sprintf("must be empty or [height, width] with each in 1..%d", hi), func(v []int) bool {
		return len(v) == 0 || (len(v) == 2 && v[0] >= 1 && v[0] <= hi && v[1] >= 1 && v[1] <= hi)
	})
}

func eachAtLeast(n int) rule {
	return check(fmt.Sprintf("each size must be >= %d", n), func(v []int) bool {
		for _, x := range v {
			if x < n {
				return false
			}
		}
		return true
	})
}

func floatAbove(x float64) rule {
	return check(fmt.Sprintf("must be > %v", x), func(v float64) bool { return v > x })
}

// floatAboveAtMost accepts lo < v <= hi.
func floatAboveAtMost(lo, hi float64) rule {
	return check(fmt.Sprintf("must be > %v and <= %v", lo, hi), func(v float64) bool { return v > lo && v <= hi })
}

// floatBetween accepts lo < v < hi.
func floatBetween(lo, hi float64) rule {
	return check(fmt.Sprintf("must be > %v and < %v", lo, hi), func(v float64) bool { return v > lo && v < hi })
}

// eachFloatInRange accepts lists whose values all satisfy lo <= v < hi.
func eachFloatInRange(lo, hi float64) rule {
	return check(fmt.Sprintf("each value must be >= %v and < %v", lo, hi), func(v []float64) bool {
		for _, x := range v {
			if x < lo || x >= hi {
				return false
			}
		}
		return true
	})
}

// floatPair accepts a [min, max] pair with 0 < min <= max <= hi (hi may be
// +Inf); with optional, the empty list is accepted too.
func floatPair(optional bool, hi float64) rule {
	msg := "[min, max] with 0 < min <= max"
	if !math.IsInf(hi, 1) {
		msg += fmt.Sprintf(" <= %v", hi)
	}
	if optional {
		msg = "empty or " + msg
	}
	return check("must be "+msg, func(v []float64) bool {
		if len(v) == 0 {
			return optional
		}
		return len(v) == 2 && v[0] > 0 && v[0] <= v[1] && v[1] <= hi
	})
}

func floatAtLeast(x float64) rule {
	return check(fmt.Sprintf("must be >= %v", x), func(v float64) bool { return v >= x })
}

// floatInRange accepts lo <= v < hi.
func floatInRange(lo, hi float64) rule {
	return check(fmt.Sprintf("must be >= %v and < %v", lo, hi), func(v float64) bool { return v >= lo && v < hi })
}

func oneOf(values ...string) rule {
	return check("must be one of "+strings.Join(values, ", "), func(v string) bool {
		for _, x := range values {
			if v == x {
				return true
			}
		}
		return false
	})
}

func nonEmpty() rule {
	return check("must not be empty", func(v string) bool { return v != "" })
}

// runName accepts names usable as a single path element.
func runName() rule {
	return check(`must be a non-empty name without path separators, "." or ".."`, func(v string) bool {
		return v != "" && v != "." && v != ".." && !strings.ContainsAny(v, `/\`) && !strings.ContainsRune(v, 0)
	})
}

// isFinite reports whether f is neither NaN nor infinite.
func isFinite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}
