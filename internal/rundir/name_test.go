package rundir

import (
	"regexp"
	"testing"
	"time"
)

// TestDefaultNameUniqueWithinOneSecond draws many names for the same
// instant: every one is distinct and keeps the "<name>-<timestamp>-" prefix.
func TestDefaultNameUniqueWithinOneSecond(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	shape := regexp.MustCompile(`^mlp-20250304-050607-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		n := DefaultName("mlp", at)
		if !shape.MatchString(n) {
			t.Fatalf("name %q does not match %s", n, shape)
		}
		if seen[n] {
			t.Fatalf("name %q drawn twice for the same second", n)
		}
		seen[n] = true
	}
}
