/**
 * The configuration's fields as rows of a reference table, read from the zod schema (stacks/config/schema.ts): path,
 * type, whether it is required, default, and the `.describe()` text. Objects are walked into; a discriminated union
 * (state backend, load trigger) lists each variant's fields with the variant they belong to.
 */
import { z } from "zod";

export interface FieldRow {
  /** Dotted path inside its object, e.g. `databricks.host`. */
  readonly path: string;
  /** The variant a field belongs to, e.g. `type: s3`; undefined outside discriminated unions. */
  readonly variant?: string;
  readonly type: string;
  readonly required: boolean;
  /** Rendered default; undefined when the schema has none. */
  readonly defaultText?: string;
  readonly description?: string;
}

interface Unwrapped {
  readonly inner: z.ZodType;
  readonly optional: boolean;
  readonly defaultText?: string;
  readonly description?: string;
}

/** Peels `.optional()` and `.default()`, keeping the outermost description (`.describe()` may sit on any layer). */
function unwrap(schema: z.ZodType): Unwrapped {
  let inner = schema;
  let optional = false;
  let defaultText: string | undefined;
  let description = schema.description;
  for (;;) {
    description ??= inner.description;
    if (inner instanceof z.ZodOptional) {
      optional = true;
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodDefault) {
      optional = true;
      defaultText = renderDefault(inner.def.defaultValue);
      inner = inner.unwrap() as z.ZodType;
    } else {
      return { inner, optional, defaultText, description };
    }
  }
}

function renderDefault(value: unknown): string {
  if (typeof value === "object" && value !== null && Object.keys(value).length > 0 && !Array.isArray(value)) {
    return "each field's default";
  }
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

const FORMATS: Readonly<Record<string, string>> = { url: "URL", uuid: "UUID", email: "e-mail address" };
const code = (value: unknown): string => `\`${String(value)}\``;
/** Longer enums (the AWS regions of stacks/config/regions.ts) are summarized by their first values. */
const MAX_LISTED_VALUES = 10;

/** A bound worth printing: zod keeps the safe-integer limits of `.int()` as bounds too. */
const shownBound = (bound: number | null): bound is number => bound !== null && Math.abs(bound) < Number.MAX_SAFE_INTEGER;

/** The type in words, with bounds and allowed values where the schema states them. */
export function typeText(schema: z.ZodType): string {
  if (schema instanceof z.ZodStringFormat) return FORMATS[schema.def.format] ?? `string (${schema.def.format})`;
  if (schema instanceof z.ZodString) return "string";
  if (schema instanceof z.ZodBoolean) return "boolean";
  if (schema instanceof z.ZodNumber) {
    const kind = schema.isInt ? "integer" : "number";
    const [min, max] = [schema.minValue, schema.maxValue];
    return shownBound(min) && shownBound(max) ? `${kind}, ${min} to ${max}` : kind;
  }
  if (schema instanceof z.ZodEnum) {
    const values = schema.options.map(code);
    return values.length <= MAX_LISTED_VALUES
      ? `one of ${values.join(", ")}`
      : `one of ${values.length} values (${values.slice(0, 3).join(", ")}, ...)`;
  }
  if (schema instanceof z.ZodLiteral) return code(schema.value);
  if (schema instanceof z.ZodArray) {
    const element = unwrap(schema.element as z.ZodType).inner;
    return element instanceof z.ZodObject ? "list of objects" : `list of ${typeText(element)}`;
  }
  if (schema instanceof z.ZodRecord) return `map of ${typeText(schema.keyType as z.ZodType)} to ${typeText(schema.valueType as z.ZodType)}`;
  if (schema instanceof z.ZodDiscriminatedUnion) return `object, one variant per \`${schema.def.discriminator}\``;
  if (schema instanceof z.ZodObject) return "object";
  return schema.def.type;
}

/**
 * Every field of an object schema, depth first; arrays are not walked into (their element gets a table of its own).
 * `variant` marks the fields of one variant of a discriminated union, whose discriminator `skip` is listed once.
 */
export function fieldRows(schema: z.ZodObject, prefix = "", variant?: string, skip?: string): FieldRow[] {
  const fields = Object.entries(schema.shape).filter(([key]) => key !== skip);
  return fields.flatMap(([key, field]) => {
    const { inner, optional, defaultText, description } = unwrap(field as z.ZodType);
    const path = `${prefix}${key}`;
    const row: FieldRow = { path, variant, type: typeText(inner), required: !optional, defaultText, description };
    if (inner instanceof z.ZodObject) return [row, ...fieldRows(inner, `${path}.`, variant)];
    if (inner instanceof z.ZodDiscriminatedUnion) return [row, ...variantRows(inner, `${path}.`)];
    return [row];
  });
}

/** The discriminator once, then each variant's own fields. */
function variantRows(union: z.ZodDiscriminatedUnion, prefix: string): FieldRow[] {
  const key = union.def.discriminator;
  const variants = union.options.map((option) => {
    const object = option as z.ZodObject;
    return { object, value: String((object.shape[key] as z.ZodLiteral).value) };
  });
  const discriminator: FieldRow = {
    path: `${prefix}${key}`,
    type: `one of ${variants.map((v) => code(v.value)).join(", ")}`,
    required: true,
    description: "Which variant this is; the fields below marked with it apply.",
  };
  return [discriminator, ...variants.flatMap(({ object, value }) => fieldRows(object, prefix, `${key}: ${value}`, key))];
}
