/**
 * References between the objects of a synthesized stack (Terraform JSON syntax), and replacing the ones that point at
 * objects the rehearsal leaves out. Pure.
 *
 * In the JSON syntax a string value is a template: `${ ... }` holds an expression, `$${` is a literal `${`
 * (https://developer.hashicorp.com/terraform/language/syntax/json#expression-mapping). Addresses are read from the
 * expressions: `type.name` (a managed resource), `data.type.name`, `var.name`, `local.name`; `depends_on` and
 * `replace_triggered_by` hold bare addresses.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Interpolation {
  /** Index of the `$` of `${`. */
  readonly start: number;
  /** Index just after the closing `}`. */
  readonly end: number;
  /** The expression between the braces. */
  readonly expr: string;
}

/** Every `${...}` of a template string, outermost only; quoted strings inside the expression may hold braces. */
export function interpolations(text: string): Interpolation[] {
  const found: Interpolation[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf("${", i);
    if (start < 0) break;
    if (start > 0 && text[start - 1] === "$") {
      i = start + 2; // `$${` is an escaped, literal `${`
      continue;
    }
    let depth = 1;
    let j = start + 2;
    while (j < text.length && depth > 0) {
      const c = text[j];
      if (c === '"') {
        j++;
        while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      } else if (c === "{") depth++;
      else if (c === "}") depth--;
      j++;
    }
    if (depth > 0) break; // unterminated: not an expression Terraform would accept either
    found.push({ start, end: j, expr: text.slice(start + 2, j - 1) });
    i = j;
  }
  return found;
}

/** An address token in an expression, with what follows it (`.arn`, `[0].external_id`, ...). */
export interface Reference {
  readonly address: string;
  readonly attribute: string;
}

const ADDRESS_TOKEN = /(?<![\w.-])((?:data\.)?[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*)((?:\[[^\]]*\]|\.[A-Za-z_][\w-]*)*)/g;

/** Address-like tokens of an expression (`var.x`, `local.y`, `type.name`, `data.type.name`) and their attribute path. */
export function referencesIn(expr: string): Reference[] {
  return [...expr.matchAll(ADDRESS_TOKEN)].map((m) => ({ address: m[1], attribute: m[2].replace(/^\./, "") }));
}

/** The addresses a JSON value refers to, from its templates and the bare addresses of the meta-argument lists. */
export function addressesIn(value: Json, key = ""): Set<string> {
  const out = new Set<string>();
  const visit = (v: Json, k: string) => {
    if (typeof v === "string") {
      if (BARE_ADDRESS_LISTS.has(k)) {
        for (const r of referencesIn(v)) out.add(r.address);
      }
      for (const { expr } of interpolations(v)) for (const r of referencesIn(expr)) out.add(r.address);
    } else if (Array.isArray(v)) {
      for (const item of v) visit(item, k);
    } else if (v !== null && typeof v === "object") {
      for (const [childKey, child] of Object.entries(v)) visit(child, childKey);
    }
  };
  visit(value, key);
  return out;
}

/** Meta-arguments whose list items are bare addresses (not templates). */
const BARE_ADDRESS_LISTS = new Set(["depends_on", "replace_triggered_by"]);

/** Where a replaced reference sits: the object type that holds it and the attribute name. */
export interface Site {
  readonly holder: string;
  readonly attribute: string;
}

/** Returns the literal that stands in for `ref` at `site`. */
export type Placeholder = (ref: Reference, site: Site) => string;

/**
 * Rewrites a JSON value so that nothing in it refers to a `dropped` address: a string that is a single interpolation
 * referring to one becomes `placeholder(...)` as a whole; an interpolation inside a longer string is replaced by the
 * placeholder text; entries of `depends_on` / `replace_triggered_by` that name one are removed. Every replacement is
 * reported through `note`.
 */
export function replaceReferences(
  value: Json,
  dropped: ReadonlySet<string>,
  holder: string,
  placeholder: Placeholder,
  note: (line: string) => void,
): Json {
  const rewrite = (v: Json, attribute: string, path: string): Json => {
    if (typeof v === "string") return rewriteString(v, attribute, path);
    if (Array.isArray(v)) {
      const items = BARE_ADDRESS_LISTS.has(attribute)
        ? v.filter((item) => {
            const gone = typeof item === "string" && referencesIn(item).some((r) => dropped.has(r.address));
            if (gone) note(`${holder}: ${path}: dropped ${JSON.stringify(item)}`);
            return !gone;
          })
        : v;
      return items.map((item, i) => rewrite(item, attribute, `${path}[${i}]`));
    }
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, child]) => [k, rewrite(child, k, path ? `${path}.${k}` : k)]));
    }
    return v;
  };
  const rewriteString = (text: string, attribute: string, path: string): string => {
    const parts = interpolations(text);
    let out = "";
    let last = 0;
    for (const part of parts) {
      const hit = referencesIn(part.expr).find((r) => dropped.has(r.address));
      if (!hit) continue;
      const literal = placeholder(hit, { holder, attribute });
      note(`${holder}: ${path}: ${text.slice(part.start, part.end)} -> ${literal.length > 60 ? `${literal.slice(0, 57)}...` : literal}`);
      out += text.slice(last, part.start) + literal;
      last = part.end;
    }
    return last === 0 ? text : out + text.slice(last);
  };
  return rewrite(value, "", "");
}
