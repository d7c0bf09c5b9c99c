#!/usr/bin/env bash
# Renders every diagrams/**/*.mmd to an SVG next to it with mermaid-cli driving Debian's Chromium, then stamps the
# SVG with the SHA-256 of its source so `make test` can tell a stale SVG without a browser.
#
# Labels are SVG <text>, not HTML in <foreignObject>: viewers without an HTML engine (IDE previews, rsvg, Inkscape,
# slide and wiki imports) show foreignObject labels as empty boxes. After rendering, each label row's word <tspan>s
# are merged into one (librsvg drops the space that starts a word tspan, gluing the words together) and the root
# gets the picture's size in pixels instead of width="100%", so every viewer opens it at its natural size.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mmdc="$here/renderer/node_modules/.bin/mmdc"
version="$(node -p "require('$here/renderer/node_modules/@mermaid-js/mermaid-cli/package.json').version")"

config="$(mktemp --suffix=.json)"
trap 'rm -f "$config"' EXIT
cat >"$config" <<'JSON'
{
  "htmlLabels": false,
  "flowchart": { "htmlLabels": false, "wrappingWidth": 400 },
  "class": { "htmlLabels": false },
  "state": { "htmlLabels": false }
}
JSON

postprocess() {
  node - "$1" <<'JS'
const fs = require("node:fs");
const file = process.argv[2];
let svg = fs.readFileSync(file, "utf8");
const wordPair = /<tspan ([^>]*class="text-inner-tspan"[^>]*)>([^<]*)<\/tspan><tspan \1>([^<]*)<\/tspan>/g;
for (let before = ""; before !== svg; ) {
  before = svg;
  svg = svg.replace(wordPair, "<tspan $1>$2$3</tspan>");
}
const root = /^<svg [^>]*>/.exec(svg)[0];
const [, , width, height] = /viewBox="([^"]+)"/.exec(root)[1].split(/\s+/).map(Number);
const sized = root
  .replace(/ width="[^"]*"/, "")
  .replace(/ height="[^"]*"/, "")
  .replace(/^<svg /, `<svg width="${Math.ceil(width)}" height="${Math.ceil(height)}" `);
svg = sized + svg.slice(root.length);
if (svg.includes("foreignObject")) {
  console.error(`${file}: a label is still HTML in a foreignObject (unsupported diagram type or config?)`);
  process.exit(1);
}
fs.writeFileSync(file, svg);
JS
}

# Arguments: the .mmd files to render (default: all of them).
if (($#)); then printf '%s\n' "$@"; else find "$here" -name '*.mmd' -not -path '*/node_modules/*' | sort; fi | while read -r source; do
  svg="${source%.mmd}.svg"
  "$mmdc" --quiet -p "$here/puppeteer.json" -c "$config" -b white -i "$source" -o "$svg"
  postprocess "$svg"
  hash="$(sha256sum "$source" | cut -d' ' -f1)"
  printf '\n<!-- source-sha256: %s rendered-by: mermaid-cli %s -->\n' "$hash" "$version" >> "$svg"
  echo "rendered ${svg#"$here/"} ($(grep -o '^<svg width="[0-9]*" height="[0-9]*"' "$svg" | tr -dc '0-9 ' | awk '{print $1 "x" $2}') px)"
done
