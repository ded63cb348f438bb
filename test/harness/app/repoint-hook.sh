#!/bin/sh
# A command hook for `at: repoint`: points the test app at the target by rewriting its endpoint
# file (the first argument) to $MB_TARGET_URL, atomically (temp file + rename).
set -eu
file="$1"
[ -n "${MB_TARGET_URL:-}" ] || { echo "MB_TARGET_URL is not set: run this as a migration-buddy command hook" >&2; exit 2; }
printf '%s\n' "$MB_TARGET_URL" > "$file.hook.tmp"
mv "$file.hook.tmp" "$file"
