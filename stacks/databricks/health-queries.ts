/**
 * The pipeline's health queries: one SQL file per query in notebooks/members_pipeline/health/ (shipped in the
 * package, run by the local report too). The dashboard's datasets and the alerts are built from these files at synth
 * time, never from SQL written here.
 *
 * A file's contract: header comment lines `-- title: ...` and `-- description: ...` (required) and `-- alert: ...`
 * (optional, see parseAlert); then one query, without a trailing statement. Tables and settings appear as placeholders
 * (`${members_table}`, `${quarantine_table}`, `${load_log_table}`, `${pii_retention_days}`): renderHealthQuery
 * substitutes them and refuses any other. No query may touch a PII column (piiColumnsTouched).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import contract from "../../notebooks/members_pipeline/contract.json";
import { invalidProp } from "../common/validation";
import { DEFAULT_NOTEBOOKS_DIR } from "./workspace-code";

/** Where the health queries live: inside the members_pipeline package, beside the code that writes the tables. */
export const DEFAULT_HEALTH_QUERIES_DIR = path.join(DEFAULT_NOTEBOOKS_DIR, "members_pipeline", "health");
/** The placeholders a health query may use, and what each stands for. */
export interface HealthQueryValues {
  /** `` `catalog`.`schema`.`members` `` */
  readonly members_table: string;
  /** `` `catalog`.`schema`.`members_quarantine` `` */
  readonly quarantine_table: string;
  /** `` `catalog`.`schema`.`members_load_log` `` */
  readonly load_log_table: string;
  /** The load's pii_retention_days setting. */
  readonly pii_retention_days: number;
}
export const HEALTH_QUERY_PLACEHOLDERS: readonly (keyof HealthQueryValues)[] = [
  "members_table",
  "quarantine_table",
  "load_log_table",
  "pii_retention_days",
];

/** `-- alert:` of a query, parsed. */
export type HealthAlertRule =
  | {
      /** The newest row's (ordered by the query's first column, descending) `column` compared to a threshold. */
      readonly kind: "compare";
      readonly column: string;
      readonly operator: ComparisonOperator;
      /** A number, or a setting the stack supplies (ALERT_SETTINGS). */
      readonly threshold: number | AlertSetting;
    }
  | {
      /** Triggered while any row's `column` (a timestamp) lies within the last `hours`. */
      readonly kind: "recent_rows";
      readonly column: string;
      readonly hours: number;
    };

export type ComparisonOperator = "GREATER_THAN" | "GREATER_THAN_OR_EQUAL" | "LESS_THAN" | "LESS_THAN_OR_EQUAL" | "EQUAL" | "NOT_EQUAL";
const OPERATORS: Readonly<Record<string, ComparisonOperator>> = {
  ">": "GREATER_THAN",
  ">=": "GREATER_THAN_OR_EQUAL",
  "<": "LESS_THAN",
  "<=": "LESS_THAN_OR_EQUAL",
  "=": "EQUAL",
  "!=": "NOT_EQUAL",
  "<>": "NOT_EQUAL",
};
/** Thresholds an alert may name instead of a number; the stack supplies their values (PipelineHealth). */
export const ALERT_SETTINGS = ["max_quarantined_share", "stale_after_hours"] as const;
export type AlertSetting = (typeof ALERT_SETTINGS)[number];

export interface HealthQuery {
  /** The file name without `.sql`: the dashboard dataset's name and part of the alert's name. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly alert?: HealthAlertRule;
  /** The query as written, placeholders included. */
  readonly template: string;
  /** Names of the result columns, in order. */
  readonly columns: readonly string[];
  /** Result columns the outermost SELECT groups by (dimensions); the others are measures. */
  readonly groupBy: readonly string[];
  /** One row: the outermost SELECT neither groups nor orders (aggregates over the whole table). */
  readonly singleRow: boolean;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const HEADER = /^--\s*([a-z_]+)\s*:\s*(.*)$/;
const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** Every `*.sql` file of `dir`, parsed, by file name; refuses an empty or missing folder. */
export function readHealthQueries(dir: string = DEFAULT_HEALTH_QUERIES_DIR): HealthQuery[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sql")) : [];
  if (files.length === 0) invalidProp("HealthQueries", "folder", dir, "a folder with at least one <name>.sql health query");
  return files.sort().map((file) => parseHealthQuery(file.slice(0, -".sql".length), readFileSync(path.join(dir, file), "utf8")));
}

/** One file's query; `name` is its file name without `.sql`. */
export function parseHealthQuery(name: string, text: string): HealthQuery {
  const where = `HealthQuery ${name}.sql`;
  if (!NAME.test(name)) invalidProp(where, "file name", name, "a lower-case identifier (letters, digits, _) followed by .sql");
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const headers = new Map<string, string>();
  let body = 0;
  for (; body < lines.length; body++) {
    const line = lines[body].trim();
    if (line === "") continue;
    const header = HEADER.exec(line);
    if (!header) break;
    if (headers.has(header[1])) invalidProp(where, `-- ${header[1]}:`, header[2], "one such header line");
    headers.set(header[1], header[2].trim());
  }
  for (const required of ["title", "description"]) {
    if (!headers.get(required)) invalidProp(where, `-- ${required}:`, headers.get(required), "a header line with text");
  }
  const template = lines.slice(body).join("\n").trim().replace(/;\s*$/, "");
  const code = codeOnly(template);
  if (!/^(select|with)\b/i.test(code.trim())) invalidProp(where, "query", template.slice(0, 40), "one SELECT (or WITH ... SELECT) query");
  if (code.includes(";")) invalidProp(where, "query", template, "one query per file (no ';' inside)");
  const { columns, groupBy, singleRow } = resultShape(code, where);
  const alertText = headers.get("alert");
  const alert = alertText === undefined ? undefined : parseAlert(alertText, columns, where);
  return { name, title: headers.get("title") ?? "", description: headers.get("description") ?? "", alert, template, columns, groupBy, singleRow };
}

/**
 * `-- alert:` grammar, a trailing `(...)` being a comment:
 * - `<column> <op> <number | setting>`, op one of > >= < <= = != <>: the newest row's column (rows ordered by the
 *   query's first column, descending) compared with the threshold; a setting is one of ALERT_SETTINGS;
 * - `any row with <column> in the last <day | N days | N hours>`: triggered while such a row exists.
 */
export function parseAlert(text: string, columns: readonly string[], where = "HealthQuery"): HealthAlertRule {
  const rule = text.replace(/\([^)]*\)\s*$/, "").trim();
  const expected =
    '"<column> <op> <number or setting>" or "any row with <column> in the last <day | N days | N hours>" (a trailing "(...)" is a comment)';
  const knownColumn = (column: string) => {
    if (!columns.includes(column)) invalidProp(where, "-- alert: column", column, `a result column of the query (${columns.join(", ")})`);
    return column;
  };
  const recent = /^any row with ([a-z_][a-z0-9_]*) in the last (?:(day|hour)|(\d+) (days|hours))$/i.exec(rule);
  if (recent) {
    const unit = (recent[2] ?? recent[4]).toLowerCase();
    const count = recent[3] === undefined ? 1 : Number(recent[3]);
    return { kind: "recent_rows", column: knownColumn(recent[1]), hours: unit.startsWith("day") ? count * 24 : count };
  }
  const compare = /^([a-z_][a-z0-9_]*)\s*(>=|<=|<>|!=|>|<|=)\s*(\S+)$/i.exec(rule);
  if (!compare) return invalidProp(where, "-- alert:", text, expected);
  const [, column, op, value] = compare;
  const setting = (ALERT_SETTINGS as readonly string[]).includes(value) ? (value as AlertSetting) : undefined;
  const threshold = setting ?? Number(value);
  if (typeof threshold === "number" && !Number.isFinite(threshold)) {
    invalidProp(where, "-- alert: threshold", value, `a number or one of ${ALERT_SETTINGS.join(", ")}`);
  }
  return { kind: "compare", column: knownColumn(column), operator: OPERATORS[op], threshold };
}

/** The query with its placeholders replaced; refuses a placeholder that is not one of HEALTH_QUERY_PLACEHOLDERS. */
export function renderHealthQuery(query: Pick<HealthQuery, "name" | "template">, values: HealthQueryValues): string {
  return query.template.replace(PLACEHOLDER, (_match, key: string) => {
    if (!(HEALTH_QUERY_PLACEHOLDERS as readonly string[]).includes(key)) {
      invalidProp(
        `HealthQuery ${query.name}.sql`,
        "placeholder",
        `\${${key}}`,
        `one of ${HEALTH_QUERY_PLACEHOLDERS.map((p) => `\${${p}}`).join(", ")}`,
      );
    }
    return String(values[key as keyof HealthQueryValues]);
  });
}

/** The PII columns: notebooks/members_pipeline/contract.json, the list the notebooks mask, erase and tag by. */
export function piiColumns(): readonly string[] {
  return contract.piiColumns;
}

/**
 * The PII columns a query names anywhere (select list, filter, join, function argument), case-insensitively; comments
 * and string literals do not count. A health query may name none: its results reach viewers who may not see PII.
 */
export function piiColumnsTouched(sql: string, pii: readonly string[]): string[] {
  const identifiers = new Set([...codeOnly(sql).matchAll(/`([^`]+)`|[A-Za-z_][A-Za-z0-9_]*/g)].map((m) => (m[1] ?? m[0]).toLowerCase()));
  return pii.filter((column) => identifiers.has(column.toLowerCase()));
}

/** The query with comments removed and string literals emptied; backticked identifiers kept. */
function codeOnly(sql: string): string {
  let out = "";
  for (let i = 0; i < sql.length; ) {
    const c = sql[i];
    if (c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
      out += " ";
    } else if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < sql.length && sql[j] !== c) j += sql[j] === "\\" && c !== "`" ? 2 : 1;
      out += c === "`" ? sql.slice(i, j + 1) : `${c}${c}`;
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * The result of a query (comments and literals already removed), read from its outermost SELECT: the columns, each
 * named by its alias (`AS x` or a trailing identifier) or, for a plain column, its name (an item without a name, an
 * expression without alias or `*`, is refused: datasets and alerts refer to columns by name); the result columns it
 * groups by; and whether it is one row (neither GROUP BY nor ORDER BY).
 */
export function resultShape(code: string, where = "HealthQuery"): { columns: string[]; groupBy: string[]; singleRow: boolean } {
  const tokens = [...code.matchAll(/`[^`]*`|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|[(),]|[^\sA-Za-z0-9_(),`]+/g)].map((m) => m[0]);
  let depth = 0;
  let start = -1;
  for (let i = 0; i < tokens.length && start === -1; i++) {
    if (tokens[i] === "(") depth++;
    else if (tokens[i] === ")") depth--;
    else if (depth === 0 && tokens[i].toLowerCase() === "select") start = i + 1;
  }
  if (start === -1) return invalidProp(where, "query", code.slice(0, 40), "a top-level SELECT");
  const items: string[][] = [[]];
  depth = 0;
  let end = tokens.length;
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i];
    if (depth === 0 && /^(from|where|group|order|having|limit|union|window)$/i.test(t)) {
      end = i;
      break;
    }
    if (t === "(") depth++;
    if (t === ")") depth--;
    if (depth === 0 && t === ",") items.push([]);
    else items[items.length - 1].push(t);
  }
  if (/^(distinct|all)$/i.test(items[0][0] ?? "")) items[0].shift();
  const columns = items.map((item) => {
    const last = item[item.length - 1] ?? "";
    const unquote = (t: string) => t.replace(/^`|`$/g, "");
    const previous = item[item.length - 2];
    // `column`, `t.column`, `expr AS alias`, `expr alias`.
    if (isIdentifierToken(last) && (item.length === 1 || previous === "." || previous === ")" || isIdentifierToken(previous))) {
      return unquote(last);
    }
    return invalidProp(where, "result column", item.join(" "), "a column or an expression with an alias (AS name)");
  });
  // Top-level clauses after the select list: GROUP BY's plain identifiers, and whether it orders.
  const clauses: string[] = [];
  depth = 0;
  for (const t of tokens.slice(end)) {
    if (t === "(") depth++;
    if (t === ")") depth--;
    if (depth === 0) clauses.push(t.toLowerCase());
  }
  const groupAt = clauses.findIndex((t, i) => t === "group" && clauses[i + 1] === "by");
  const groupBy: string[] = [];
  for (let i = groupAt + 2; groupAt !== -1 && i < clauses.length && !/^(having|order|limit|window|union)$/.test(clauses[i]); i++) {
    const name = clauses[i].replace(/^`|`$/g, "");
    if (columns.includes(name)) groupBy.push(name);
  }
  const ordered = clauses.some((t, i) => t === "order" && clauses[i + 1] === "by");
  return { columns, groupBy, singleRow: groupAt === -1 && !ordered };
}

const isIdentifierToken = (t: string | undefined) => t !== undefined && /^(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)$/.test(t);
