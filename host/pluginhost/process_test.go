package pluginhost_test

import (
	"testing"

	"github.com/vire-dev/vire/internal/testbuild"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// alive reports whether pid names a live (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func testbuildBinary(tb testing.TB) string { return testbuild.Binary(tb, filePlugin) }
