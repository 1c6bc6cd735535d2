//go:build !unix

package runs

// processAlive cannot probe processes here: a lock file with a PID is
// taken to mean the run is still going.
func processAlive(pid int) bool { return pid > 0 }
