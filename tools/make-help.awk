# `make help`: the targets documented with `target: ... ## [group] text`, grouped in the order below and aligned.
# A documented target without a known group is listed under "other" (the make-help test refuses that).
BEGIN {
  order = "first look|develop|deploy|maintain"
  n = split(order, names, "|")
}
/^[a-zA-Z_-]+:.*## / {
  target = $0; sub(/:.*/, "", target)
  text = $0; sub(/^[^#]*## /, "", text)
  group = "other"
  if (match(text, /^\[[^]]+\] /)) { group = substr(text, 2, RLENGTH - 3); text = substr(text, RLENGTH + 1) }
  if (!(group in count)) { count[group] = 0 }
  lines[group, ++count[group]] = target "\t" text
  if (length(target) > width) width = length(target)
}
END {
  names[n + 1] = "other"
  for (i = 1; i <= n + 1; i++) {
    g = names[i]
    if (!(g in count)) continue
    printf "%s%s:\n", (printed++ ? "\n" : ""), g
    for (j = 1; j <= count[g]; j++) {
      split(lines[g, j], parts, "\t")
      printf "  make %-" width "s  %s\n", parts[1], parts[2]
    }
  }
}
