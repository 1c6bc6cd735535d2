package model

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// SystemMemory returns the memory available to new allocations and the
// total memory, in bytes: MemAvailable and MemTotal of /proc/meminfo,
// lowered to the process's cgroup limit (v2 memory.max, or v1
// memory.limit_in_bytes, less the cgroup's usage) when there is one, as in
// a container or a Slurm job. ok is false when /proc/meminfo cannot be
// read.
func SystemMemory() (available, total int64, ok bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, 0, false
	}
	info := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// "MemAvailable:   24157068 kB"
		f := strings.Fields(sc.Text())
		if len(f) >= 2 {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				info[strings.TrimSuffix(f[0], ":")] = v * 1024
			}
		}
	}
	total, ok = info["MemTotal"]
	if !ok {
		return 0, 0, false
	}
	available, ok = info["MemAvailable"]
	if !ok { // kernels before 3.14
		available = info["MemFree"] + info["Buffers"] + info["Cached"]
	}
	for _, cg := range [][2]string{
		{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
		{"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"},
	} {
		limit, ok := readInt(cg[0]) // "max" (no limit) does not parse
		if !ok || limit >= total {
			continue
		}
		total = limit
		if used, ok := readInt(cg[1]); ok {
			available = min(available, max(limit-used, 0))
		}
		available = min(available, limit)
		break
	}
	return available, total, true
}

// readInt reads a file holding one decimal integer.
func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}
