// Command vire-server is the Vire host: it reads an HCL configuration,
// starts the plugins it names and serves the REST API.
//
//	vire-server [run] [-config FILE] [-var NAME=VALUE]...
//	vire-server validate [-config FILE] [-var NAME=VALUE]... [-json]
//	vire-server fmt [-check] FILE...
//	vire-server plugins [-config FILE | -dir DIR]
//	vire-server keys status|rotate|rewrap|reencrypt [-config FILE] [-tenant ID | -all] [-json]
//	vire-server data export|import [-config FILE] [-tenant ID] [-o FILE | -i FILE]
//	vire-server version
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: vire-server <command> [flags]

Commands:
  run        start the server (the default command)
  validate   check a configuration and each plugin's settings without serving
  fmt        rewrite configuration files in canonical HCL style
  plugins    list the plugin binaries that can be used, with versions and checksums
  keys       encryption keys: status, rotate, rewrap, reencrypt
  data       export a tenant's documents to a plaintext archive, or import one
  tenants    hosted tenants: create, list, suspend, resume, delete
  apikeys    API keys: create, list, revoke, rotate
  audit      verify a tenant's audit log
  version    print the version

Run 'vire-server <command> -h' for a command's flags.
`

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return cmdRun(args, stdout, stderr)
	case "validate":
		return cmdValidate(args, stdout, stderr)
	case "fmt":
		return cmdFmt(args, stdout, stderr)
	case "plugins":
		return cmdPlugins(args, stdout, stderr)
	case "keys":
		return cmdKeys(args, stdout, stderr)
	case "data":
		return cmdData(args, stdout, stderr)
	case "tenants":
		return cmdTenants(args, stdout, stderr)
	case "apikeys":
		return cmdAPIKeys(args, stdout, stderr)
	case "audit":
		return cmdAudit(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "vire-server %s\n", version)
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vire-server: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
