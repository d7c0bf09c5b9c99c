#!/usr/bin/env bash
# Renders every diagrams/**/*.mmd to an SVG next to it with mermaid-cli driving Debian's Chromium, then stamps the
# SVG with the SHA-256 of its source so `make test` can tell a stale SVG without a browser.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mmdc="$here/renderer/node_modules/.bin/mmdc"
version="$(node -p "require('$here/renderer/node_modules/@mermaid-js/mermaid-cli/package.json').version")"

find "$here" -name '*.mmd' -not -path '*/node_modules/*' | sort | while read -r source; do
  svg="${source%.mmd}.svg"
  "$mmdc" --quiet -p "$here/puppeteer.json" -b white -i "$source" -o "$svg"
  hash="$(sha256sum "$source" | cut -d' ' -f1)"
  printf '\n<!-- source-sha256: %s rendered-by: mermaid-cli %s -->\n' "$hash" "$version" >> "$svg"
  echo "rendered ${svg#"$here/"}"
done
