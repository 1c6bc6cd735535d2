#!/usr/bin/env bash
# Checks that "go install github.com/lepton-cli/lepton/cmd/lepton@VERSION"
# reports VERSION (from Go's build info), offline: the committed HEAD is
# served as VERSION from a file GOPROXY, its dependencies from the module
# cache. Usage: scripts/go-install-version.sh [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
version="${1:-v0.99.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mod=github.com/lepton-cli/lepton
dir="$work/proxy/$mod/@v"
mkdir -p "$dir" "$work/bin"
git archive --format=zip --prefix="$mod@$version/" HEAD -o "$dir/$version.zip"
git show HEAD:go.mod > "$dir/$version.mod"
printf '{"Version":"%s","Time":"2026-01-01T00:00:00Z"}\n' "$version" > "$dir/$version.info"
echo "$version" > "$dir/list"
GOFLAGS= GOBIN="$work/bin" GOSUMDB=off GOPROXY="file://$work/proxy,file://$(go env GOMODCACHE)/cache/download" \
  go install "$mod/cmd/lepton@$version"
got="$("$work/bin/lepton" --version | head -1)"
echo "go install $mod/cmd/lepton@$version: $got"
[ "$got" = "lepton $version" ] || { echo "want: lepton $version" >&2; exit 1; }
