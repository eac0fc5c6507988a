#!/usr/bin/env bash
# .ci/vulncheck.sh: run govulncheck on this module against an offline copy of
# the Go vulnerability database.
#
# Usage: bash .ci/vulncheck.sh [govulncheck flags and packages]   (default: ./...)
#
# Exit status: 0 when no vulnerability reaches our code, 3 (govulncheck's own
# code) when a vulnerable symbol is reachable from our code, anything else
# non-zero when the check itself could not run. Vulnerabilities only in
# modules we require, or in packages we import but whose vulnerable symbols
# we never call, are listed as information and do not fail the check.
#
# Why this shape:
# - CI reaches the Go module proxy and nothing else, so vuln.go.dev is out.
#   The proxy serves golang.org/x/vulndb, the repository the database is
#   generated from; its data/osv holds one OSV JSON file per report.
# - govulncheck's -db file://DIR takes either a v1 database (index/ plus ID/)
#   or, when DIR has no index/modules.json, a flat folder of <ID>.json OSV
#   files that it indexes itself in memory (about 0.7 s for ~4800 reports).
#   We use the second form: the index is then computed by govulncheck's own
#   code rather than by a copy of it, and the vulndb generator (cmd/indexdb)
#   would pull about 70 MB of cloud dependencies just to write the same index.
#   That form is not in govulncheck's documentation, so both versions are
#   pinned; a later govulncheck that drops it fails with "unrecognized vulndb
#   format" (non-zero), never with a silent pass.
# - Nothing here touches go.mod or go.sum: downloads and the tool build run
#   from an empty folder outside the module.
#
# Environment:
#   VULNCHECK_CACHE  where the govulncheck binary is kept between runs
#                    (default: a folder next to $(go env GOCACHE)).
set -euo pipefail

# Pinned versions: golang.org/x/vuln (the tool) and golang.org/x/vulndb (the
# data, a pseudo-version: its commit date is the database's date).
readonly VULN_VERSION=v1.9.0
readonly VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
# A real database has thousands of reports; far fewer means a broken
# download, which must not pass as "no vulnerabilities".
readonly MIN_REPORTS=1000

log() { printf 'vulncheck: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go not found in PATH"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f "$repo_root/go.mod" ]] || die "no go.mod in $repo_root"

# The Go that will run the scan: the module root's, so that GOTOOLCHAIN or a
# toolchain line in go.mod count as they do for the build.
go_version="$(cd "$repo_root" && go env GOVERSION)" || die "go env GOVERSION failed in $repo_root"
if [[ -n "${VULNCHECK_CACHE:-}" ]]; then
	cache="$VULNCHECK_CACHE"
else
	gocache="$(go env GOCACHE)"
	case "$gocache" in
	/*) cache="$(dirname "$gocache")/fedtoken-vulncheck" ;;
	*) cache="${TMPDIR:-/tmp}/fedtoken-vulncheck" ;; # GOCACHE=off or unset
	esac
fi
mkdir -p "$cache"

# An empty folder outside any module, so that `go mod download` and
# `go install` cannot read or write our go.mod/go.sum (nor a go.work); the
# same Go as the scan's builds the tool there.
neutral="$(mktemp -d "$cache/neutral.XXXXXX")"
trap 'rm -rf "$neutral"' EXIT
in_neutral() { (cd "$neutral" && GOWORK=off GOFLAGS='' GOTOOLCHAIN="$go_version" "$@"); }
gomod="$(in_neutral go env GOMOD)"
[[ "$gomod" == /dev/null || -z "$gomod" ]] || die "$neutral is inside module $gomod"

start=$SECONDS

# 1. The tool, built once per (govulncheck version, Go version): the Go
#    version matters because govulncheck type-checks the standard library
#    of the Go that runs it.
bin="$cache/govulncheck-$VULN_VERSION-$go_version"
if [[ ! -x "$bin" ]]; then
	log "building golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION with $go_version"
	gobin="$(mktemp -d "$cache/bin.XXXXXX")"
	in_neutral env GOBIN="$gobin" go install "golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION" ||
		die "could not build govulncheck@$VULN_VERSION"
	mv -f "$gobin/govulncheck" "$bin" # rename: a concurrent run never sees half a file
	rmdir "$gobin"
fi

# 2. The data: golang.org/x/vulndb through the module proxy into the module
#    cache (verified against the checksum database like any module; a no-op
#    once it is there).
dl_json="$(in_neutral go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION")" ||
	die "could not download golang.org/x/vulndb@$VULNDB_VERSION: $dl_json"
vulndb_dir="$(printf '%s\n' "$dl_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[[ -n "$vulndb_dir" && -d "$vulndb_dir/data/osv" ]] ||
	die "golang.org/x/vulndb@$VULNDB_VERSION has no data/osv (download said: $dl_json)"
osv_dir="$vulndb_dir/data/osv"
reports="$(find "$osv_dir" -maxdepth 1 -name 'GO-*.json' | wc -l)"
((reports >= MIN_REPORTS)) || die "only $reports reports in $osv_dir (want >= $MIN_REPORTS)"
log "database: golang.org/x/vulndb@$VULNDB_VERSION ($reports reports), tool: govulncheck $VULN_VERSION, $go_version (ready in $((SECONDS - start)) s)"

# 3. The scan, from the module root. govulncheck's exit status is ours.
if (($# == 0)); then
	set -- ./...
fi
cd "$repo_root"
status=0
# -mod=readonly: the go list that govulncheck runs must not rewrite go.mod.
GOFLAGS="${GOFLAGS:-} -mod=readonly" "$bin" -db "file://$osv_dir" "$@" || status=$?
case "$status" in
0) log "no vulnerability reaches our code ($((SECONDS - start)) s)" ;;
3) log "FAIL: vulnerable code is reachable from our code, see above ($((SECONDS - start)) s)" ;;
*) log "FAIL: govulncheck could not run (exit $status)" ;;
esac
exit "$status"
