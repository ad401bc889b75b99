#!/usr/bin/env bash
# Runs the Go benchmarks whose figures the README quotes and prints them with
# the machine they ran on. Results vary with load: run on an idle machine and
# compare runs with benchstat rather than trusting one number.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-3}
out=${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ).txt}
mkdir -p "$(dirname "$out")"
{
	echo "# $(uname -srm), $(nproc) cores, $(go version)"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	go test -run '^$' -bench 'Boundary|Stream64MiB' -benchmem -count "$count" ./host/pluginhost/
	go test -run '^$' -bench . -benchmem -count "$count" ./host/crypt/ ./host/store/
} | tee "$out"
echo "results written to $out"
