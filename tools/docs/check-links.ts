/**
 * The documentation's link check (`make docs-links`, part of `make test`): every relative link and image in README.md,
 * docs/**\/*.md and notebooks/README.md must point at a file or folder that exists and, with a `#anchor`, at a heading
 * of the target whose GitHub slug is that anchor; and every page under docs/ must be reachable from README.md by
 * following links. External links (http:, https:, mailto:) are not fetched.
 *
 *   check-links.ts [root]    prints `file:line: broken link X (no such file | no heading #Y in Z)` and
 *                            `file: unreachable from README.md` for each problem and exits 1; otherwise one OK line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";

/** Where the walk starts: every page must be reachable from it. */
export const ENTRY = "README.md";

/** A link found in a page: its target as written and the 1-based line it is on. */
export interface Link {
  readonly target: string;
  readonly line: number;
}

/** What the check found under one root. */
export interface LinkReport {
  readonly problems: string[];
  readonly files: number;
  readonly links: number;
  readonly external: number;
  /** Allow-listed generated pages that do not exist yet (linked to, not checked). */
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const ATX_HEADING = /^\s{0,3}(#{1,6})\s+(.*?)(\s+#+)?\s*$/;
const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;
/** `[text](target "title")` and `![alt](target)`; text may hold one level of brackets. */
const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g;

/** Lines of a markdown source outside fenced code blocks, with their 1-based numbers. */
function proseLines(source: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let fence: string | undefined;
  source.split("\n").forEach((text, i) => {
    const m = FENCE.exec(text);
    if (fence !== undefined) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = undefined;
      return;
    }
    if (m) {
      fence = m[1];
      return;
    }
    out.push({ text, line: i + 1 });
  });
  return out;
}

/** Inline code spans blanked out (same length), so a link written inside backticks is not taken for a link. */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (span) => " ".repeat(span.length));
}

/** Every inline link and image of a markdown source. */
export function linksOf(source: string): Link[] {
  const links: Link[] = [];
  for (const { text, line } of proseLines(source)) {
    // Backticks inside link text (`[`x`](y)`) are blanked too; the target stays.
    for (const m of withoutCodeSpans(text).matchAll(INLINE_LINK)) links.push({ target: m[1].replace(/^<|>$/g, ""), line });
  }
  return links;
}

/** GitHub's anchor for a heading: lower case, markup and punctuation dropped (but `-` and `_`), each space a `-`. */
export function slugOf(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown source's headings; repeated slugs get `-1`, `-2`, … as on GitHub. */
export function anchorsOf(source: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(source)) {
    const m = ATX_HEADING.exec(text);
    if (!m) continue;
    const slug = slugOf(m[2]);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Repository-relative path with forward slashes. */
const rel = (root: string, path: string) => relative(root, path).split(/[\\/]/).join(posix.sep);

/** The pages checked under `root`: README.md, notebooks/README.md and every .md below docs/. */
export function pagesOf(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
    );
  const docs = existsSync(join(root, "docs")) ? walk(join(root, "docs")) : [];
  return [ENTRY, "notebooks/README.md"]
    .map((p) => join(root, p))
    .filter((p) => existsSync(p))
    .concat(docs.sort())
    .map((p) => rel(root, p));
}

/** Checks every page under `root`; see the file comment. */
export function checkLinks(root: string): LinkReport {
  root = resolve(root);
  const pages = pagesOf(root);
  const sources = new Map<string, string>();
  const read = (page: string): string => {
    const cached = sources.get(page);
    if (cached !== undefined) return cached;
    const source = readFileSync(join(root, page), "utf8");
    sources.set(page, source);
    return source;
  };
  const problems: string[] = [];
  /** page -> the markdown pages it links to (existing ones), for reachability. */
  const edges = new Map<string, string[]>();
  let links = 0;
  let external = 0;

  for (const page of pages) {
    const targets: string[] = [];
    for (const { target, line } of linksOf(read(page))) {
      links++;
      if (EXTERNAL.test(target)) {
        external++;
        continue;
      }
      const hash = target.indexOf("#");
      const pathPart = decodeURI(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = pathPart === "" ? page : rel(root, resolve(root, dirname(page), pathPart));
      const broken = (why: string) => problems.push(`${page}:${line}: broken link ${target} (${why})`);
      if (resolved.startsWith("..")) {
        broken("outside the repository");
        continue;
      }
      if (!existsSync(join(root, resolved))) {
        broken("no such file");
        continue;
      }
      const isPage = resolved.endsWith(".md") && statSync(join(root, resolved)).isFile();
      if (isPage) targets.push(resolved);
      if (anchor === undefined || anchor === "") continue;
      if (!isPage) broken(`an anchor on ${resolved}, which is not a markdown file`);
      else if (!anchorsOf(read(resolved)).has(anchor)) broken(`no heading #${anchor} in ${resolved}`);
    }
    edges.set(page, targets);
  }

  // Reachability: follow links from README.md through every page that exists (pages outside the checked set, such as
  // another folder's README, are followed too but not checked).
  const reached = new Set<string>();
  const queue = pages.includes(ENTRY) ? [ENTRY] : [];
  for (let page = queue.shift(); page !== undefined; page = queue.shift()) {
    if (reached.has(page)) continue;
    reached.add(page);
    const next = edges.get(page) ?? linksOf(read(page)).flatMap(({ target }) => followable(root, page, target));
    queue.push(...next.filter((p) => !reached.has(p)));
  }
  if (!pages.includes(ENTRY)) problems.push(`${ENTRY}: missing`);
  for (const page of pages.filter((p) => p.startsWith("docs/") && !reached.has(p))) {
    problems.push(`${page}: unreachable from ${ENTRY} (link it from ${ENTRY} or docs/README.md)`);
  }

  return { problems, files: pages.length, links, external };
}

/** The existing markdown page a link of `page` leads to, if any (for pages outside the checked set). */
function followable(root: string, page: string, target: string): string[] {
  if (EXTERNAL.test(target)) return [];
  const pathPart = target.split("#")[0];
  if (pathPart === "") return [];
  const resolved = rel(root, resolve(root, dirname(page), decodeURI(pathPart)));
  return resolved.endsWith(".md") && !resolved.startsWith("..") && existsSync(join(root, resolved)) ? [resolved] : [];
}

/** The one-line summary of a clean run. */
export function summaryOf(report: LinkReport): string {
  return `docs links OK: ${report.files} pages, ${report.links} links (${report.external} external, not fetched), every docs page reachable from ${ENTRY}`;
}

if (require.main === module) {
  const report = checkLinks(process.argv[2] ?? process.cwd());
  if (report.problems.length > 0) {
    for (const problem of report.problems) process.stderr.write(`${problem}\n`);
    process.stderr.write(`docs links: ${report.problems.length} problem(s)\n`);
    process.exit(1);
  }
  process.stdout.write(`${summaryOf(report)}\n`);
}
