#!/usr/bin/env sh
# Prints the path of the first Python >= 3.11 on PATH: python3 first, then the versioned names. Exits 1 naming what
# it tried and how to choose one, so no make target fails with a bare "command not found".
for name in python3 python3.13 python3.12 python3.11; do
  path=$(command -v "$name" 2>/dev/null) || continue
  if "$path" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
found=$(python3 --version 2>&1) || found="no python3"
echo "Python >= 3.11 not found on PATH (tried python3, python3.13, python3.12, python3.11; got: $found)." \
  "Install Python 3.11 or newer, or name one: make <target> PYTHON=/path/to/python3.12" >&2
exit 1
