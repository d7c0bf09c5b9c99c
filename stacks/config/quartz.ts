/**
 * Quartz cron expressions, as Databricks job schedules take them (the syntax of Quartz's CronExpression), checked field
 * by field at synth time: Databricks refuses a bad one only when the deploy creates the job, or never fires it.
 *
 * Hand-written on purpose: the npm validators tried (cron-validate 1.5, croner 11) are not Quartz-exact. cron-validate
 * either accepts day-of-week 0 or refuses `*` there (its week runs 0-7), accepts `6#0`; croner accepts both day
 * fields set, years up to 9999 and day-of-week 8. Quartz's own rules, applied below:
 * - `*`, values, ranges `a-b` (a range may wrap: `22-2`, `NOV-FEB`), steps `x/n` (n at most the field's maximum), lists;
 * - day-of-month also `L`, `L-n` (n <= 30), `LW`, `nW`; day-of-week also `L`, `nL`, `n#k` (k 1-5). Each stands alone
 *   in its field: Quartz does not combine them with lists;
 * - `?` in exactly one of day-of-month and day-of-week ("support for specifying both a day-of-week and a day-of-month
 *   value is not complete"): Quartz, and so Databricks, refuses both set and both `?`.
 */

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names of min, min + 1, ... (Quartz is case-insensitive; expressions are upper-cased first). */
  readonly names?: readonly string[];
  /** The field's own forms besides values, ranges, steps and lists; `extra` says which, for the message. */
  readonly special?: (field: string, spec: FieldSpec) => boolean;
  readonly extra?: string;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** The number a single value of the field stands for (its names too); NaN when it is neither. */
function numberOf(token: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(token) ?? -1;
  return named >= 0 ? spec.min + named : /^\d+$/.test(token) ? Number(token) : Number.NaN;
}

/** A single value of the field: a number in range or one of its names. */
function isValue(token: string, spec: FieldSpec): boolean {
  const value = numberOf(token, spec);
  return value >= spec.min && value <= spec.max;
}

function dayOfMonthSpecial(field: string, spec: FieldSpec): boolean {
  const match = /^(?:L(?:-(\d+))?W?|(\d+)W)$/.exec(field);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 30) && (match[2] === undefined || isValue(match[2], spec));
}

function dayOfWeekSpecial(field: string, spec: FieldSpec): boolean {
  const match = /^(?:L|(\w+)L|(\w+)#([1-5]))$/.exec(field);
  const day = match?.[1] ?? match?.[2];
  return match !== null && (day === undefined || isValue(day, spec));
}

const FIELDS: readonly FieldSpec[] = [
  { label: "seconds", min: 0, max: 59 },
  { label: "minutes", min: 0, max: 59 },
  { label: "hours", min: 0, max: 23 },
  { label: "day-of-month", min: 1, max: 31, special: dayOfMonthSpecial, extra: "L, L-n, nW, LW or ?" },
  { label: "month", min: 1, max: 12, names: MONTHS },
  { label: "day-of-week", min: 1, max: 7, names: WEEKDAYS, special: dayOfWeekSpecial, extra: "L, nL, n#1-5 or ?" },
  { label: "year", min: 1970, max: 2099 },
];

/** One list element: `*`, a value or a range, optionally stepped. */
function isElement(element: string, spec: FieldSpec): boolean {
  const [range, step, ...rest] = element.split("/");
  if (rest.length > 0) return false;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1 && Number(step) <= spec.max)) return false;
  const bounds = range.split("-");
  return range === "*" || (bounds.length <= 2 && bounds.every((bound) => isValue(bound, spec)));
}

function isField(field: string, spec: FieldSpec): boolean {
  if (field === "?") return spec.special !== undefined;
  return spec.special?.(field, spec) === true || field.split(",").every((element) => isElement(element, spec));
}

function describe(spec: FieldSpec): string {
  const names = spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : "";
  return `${spec.label} ${spec.min}-${spec.max}${names}${spec.extra ? `, ${spec.extra}` : ""}`;
}

/**
 * What is wrong with a quartz expression, phrased as the expectation ("hours 0-23 (field 3 of a quartz expression)"),
 * or undefined when Quartz accepts it. Names the first field at fault.
 */
export function quartzProblem(expression: string): string | undefined {
  const fields = expression.trim().toUpperCase().split(/\s+/);
  if (fields.length !== 6 && fields.length !== 7) return "a 6- or 7-field quartz expression";
  const bad = fields.findIndex((field, index) => !isField(field, FIELDS[index]));
  if (bad >= 0) return `${describe(FIELDS[bad])} (field ${bad + 1} of a quartz expression)`;
  if ((fields[3] === "?") === (fields[5] === "?")) {
    return '"?" in exactly one of day-of-month (field 4) and day-of-week (field 6) of a quartz expression: Quartz, and so Databricks, does not support specifying both';
  }
  return undefined;
}

/**
 * The values field `index` (0 seconds, 1 minutes, 2 hours, 3 day-of-month, 4 month, 5 day-of-week, 6 year) of an
 * expression quartzProblem accepts matches: `*` and `?` every value, lists of values, names, ranges (a wrapping one
 * runs past the maximum to the minimum: hours `22-2` are 22, 23, 0, 1, 2) and steps (`x/n` from x to the maximum).
 * Day-of-week numbers Sunday 1 to Saturday 7. Undefined for the day fields' own forms (L, W, #), whose days change
 * from month to month.
 */
export function quartzFieldValues(field: string, index: number): Set<number> | undefined {
  const spec = FIELDS[index];
  const upper = field.toUpperCase();
  if (upper !== "?" && spec.special?.(upper, spec)) return undefined;
  const size = spec.max - spec.min + 1;
  const values = new Set<number>();
  for (const element of upper.split(",")) {
    const [range, step] = element.split("/");
    const [from, to] =
      range === "*" || range === "?"
        ? [spec.min, spec.max]
        : range.includes("-")
          ? range.split("-").map((bound) => numberOf(bound, spec))
          : [numberOf(range, spec), step === undefined ? numberOf(range, spec) : spec.max];
    const span = (to - from + size) % size;
    for (let offset = 0; offset <= span; offset += step === undefined ? 1 : Number(step)) {
      values.add(spec.min + ((from - spec.min + offset) % size));
    }
  }
  return values;
}
