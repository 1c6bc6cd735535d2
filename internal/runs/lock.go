package runs

import (
	"os"
	"strconv"
)

// lockAlive reports whether the lock file at path exists and the first
// number in it is the ID of a live process. Any layout that starts with
// the PID works ("1234", "1234\nhost", "pid: 1234", {"pid":1234,...}).
func lockAlive(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, ok := firstNumber(b)
	return ok && processAlive(pid)
}

// firstNumber returns the first run of decimal digits in b.
func firstNumber(b []byte) (int, bool) {
	start := -1
	for i, c := range b {
		if c >= '0' && c <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			n, err := strconv.Atoi(string(b[start:i]))
			return n, err == nil
		}
	}
	if start < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[start:]))
	return n, err == nil
}
