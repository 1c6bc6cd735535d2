//go:build !unix

package main

import "time"

// selfCPU returns 0 where getrusage does not exist: the generator's CPU
// column then reads 0 (the benchmark is meant for Linux).
func selfCPU() time.Duration { return 0 }
