#!/bin/sh
# A command hook for `at: repoint`: points the test app at the target by rewriting its endpoint
# file (the first argument) to $MB_TARGET_URL, atomically (temp file + rename). A second argument
# `cluster` says the target is a Redis Cluster (the app then routes by slot).
set -eu
file="$1"
kind="${2:-standalone}"
[ -n "${MB_TARGET_URL:-}" ] || { echo "MB_TARGET_URL is not set: run this as a migration-buddy command hook" >&2; exit 2; }
if [ "$kind" = cluster ]; then
  printf 'cluster %s\n' "$MB_TARGET_URL" > "$file.hook.tmp"
else
  printf '%s\n' "$MB_TARGET_URL" > "$file.hook.tmp"
fi
mv "$file.hook.tmp" "$file"
