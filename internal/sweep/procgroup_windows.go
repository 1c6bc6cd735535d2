//go:build windows

package sweep

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in a process group of its own, so that the
// console's Ctrl-C reaches the sweep and not its trials. (Windows cannot
// send a trial os.Interrupt: cancelling a local sweep there kills the
// trials, which resume from their last checkpoint.)
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}
