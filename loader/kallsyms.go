package loader

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// KallsymsLookup returns a function resolving kernel symbol names to their
// addresses from a kallsyms file (normally /proc/kallsyms). Reading real
// addresses needs CAP_SYSLOG; zero addresses are reported as such.
func KallsymsLookup(path string) func(string) (uint64, error) {
	return func(name string) (uint64, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 || fields[2] != name {
				continue
			}
			addr, err := strconv.ParseUint(fields[0], 16, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: bad address %q", path, fields[0])
			}
			if addr == 0 {
				return 0, fmt.Errorf("%s shows address 0 for %s: reading kernel addresses needs CAP_SYSLOG", path, name)
			}
			return addr, nil
		}
		if err := sc.Err(); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("symbol %s not found in %s", name, path)
	}
}
