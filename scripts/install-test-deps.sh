#!/usr/bin/env bash
# Installs the real servers that Vire's storage tests start on loopback:
#   versitygw (S3 gateway), fake-gcs-server (GCS emulator), redis-server.
# Idempotent: anything already present is left alone. The Go programs go to
# $VIRE_TOOLS_BIN (default <repo>/.tools/bin), which the tests search first.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
FAKE_GCS_VERSION=v1.56.1

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_bin="${VIRE_TOOLS_BIN:-$repo_root/.tools/bin}"
mkdir -p "$tools_bin"

say() { printf 'install-test-deps: %s\n' "$*"; }

# go_tool NAME MODULE VERSION installs MODULE@VERSION as tools_bin/NAME unless
# that exact version is already there (a stamp file records what was built).
go_tool() {
	local name=$1 module=$2 version=$3
	local stamp="$tools_bin/.$name.version"
	if [[ -x "$tools_bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$module@$version" ]]; then
		say "$name $version already installed in $tools_bin"
		return
	fi
	if ! command -v go >/dev/null 2>&1; then
		say "go is not on PATH: install Go, then run this again" >&2
		exit 1
	fi
	say "building $name $version into $tools_bin (go install $module@$version)"
	# Built outside the repository so Vire's go.mod plays no part.
	(cd / && GOBIN="$tools_bin" GOFLAGS=-buildvcs=false go install "$module@$version")
	echo "$module@$version" >"$stamp"
	say "installed $name $version"
}

go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
go_tool fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKE_GCS_VERSION"

if command -v redis-server >/dev/null 2>&1; then
	say "redis-server already installed ($(command -v redis-server))"
elif [[ "$(id -u)" -eq 0 ]]; then
	say "installing redis-server with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends redis-server; then
		say "apt-get install failed; refreshing package lists and retrying"
		apt-get update
		apt-get install -y --no-install-recommends redis-server
	fi
	# The Debian package starts a system-wide server; tests run their own.
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
		systemctl stop redis-server || true
	fi
	say "installed redis-server"
else
	say "redis-server is missing and this is not root: run 'sudo apt-get install redis-server'" >&2
	exit 1
fi

# The MCP tests drive the official TypeScript SDK client, which needs npm (the
# Node.js 22 it runs on is fetched by npx).
if command -v npm >/dev/null 2>&1; then
	say "npm already installed ($(command -v npm))"
elif [[ "$(id -u)" -eq 0 ]]; then
	say "installing nodejs and npm with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends nodejs npm; then
		apt-get update
		apt-get install -y --no-install-recommends nodejs npm
	fi
else
	say "npm is missing and this is not root: run 'sudo apt-get install nodejs npm'" >&2
	exit 1
fi

say "done"
