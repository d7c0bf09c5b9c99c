/**
 * The health dashboard's serialized form (an AI/BI dashboard's `.lvdash.json`: `datasets` and `pages` of widgets),
 * built from the health queries: one dataset per query file, named by the file, and one widget per dataset. The
 * widget follows the query's shape (health-queries.ts resultShape):
 * - one row (no GROUP BY, no ORDER BY): a counter of its alert's column, or of its last column;
 * - grouped with a date or time first column: a bar chart per that column, the other grouped columns as colour and
 *   the rest as bars;
 * - anything else (per-batch listings): a table of every column.
 * Format: Databricks' exported dashboards (databricks/bundle-examples, `*.lvdash.json`): counter spec version 2,
 * bar version 3, table version 1; positions on a 6-column grid.
 */
import type { HealthQuery } from "./health-queries";

/** A health query with its placeholders substituted. */
export interface RenderedHealthQuery extends HealthQuery {
  readonly sql: string;
}

const GRID_WIDTH = 6;
const TIME_COLUMN = /(^|_)(date|day|at|time|timestamp)$/;
type Kind = "counter" | "bar" | "table";

/** Which widget a query gets (see the module comment). */
export function widgetKind(query: HealthQuery): Kind {
  if (query.singleRow) return "counter";
  if (query.groupBy.length > 0 && TIME_COLUMN.test(query.columns[0]) && query.groupBy.includes(query.columns[0])) return "bar";
  return "table";
}

/** The dashboard's serialized JSON object (datasets, one page). */
export function healthDashboard(queries: readonly RenderedHealthQuery[], pageTitle: string): Record<string, unknown> {
  const datasets = queries.map((q) => ({ name: q.name, displayName: q.title, queryLines: queryLines(q.sql) }));
  // Counters in rows of three on top, then charts, then tables, each full width.
  const ordered = (["counter", "bar", "table"] as const).flatMap((kind) => queries.filter((q) => widgetKind(q) === kind));
  let y = 0;
  let x = 0;
  const layout = ordered.map((q) => {
    const kind = widgetKind(q);
    const width = kind === "counter" ? GRID_WIDTH / 3 : GRID_WIDTH;
    const height = kind === "counter" ? 3 : 6;
    if (x + width > GRID_WIDTH) {
      x = 0;
      y += 3;
    }
    const position = { x, y, width, height };
    x += width;
    if (x >= GRID_WIDTH) {
      x = 0;
      y += height;
    }
    return { widget: widget(q, kind), position };
  });
  return { datasets, pages: [{ name: "health", displayName: pageTitle, layout }] };
}

/** `queryLines`: the SQL split after each line break, as the dashboard editor saves it. */
function queryLines(sql: string): string[] {
  return sql.split("\n").map((line, i, all) => (i < all.length - 1 ? `${line}\n` : line));
}

function widget(q: HealthQuery, kind: Kind) {
  const column = (name: string) => ({ name, expression: `\`${name}\`` });
  const frame = { showTitle: true, title: q.title, showDescription: true, description: q.description };
  const query = (fields: string[]) => [{ name: "main_query", query: { datasetName: q.name, fields: fields.map(column), disaggregated: true } }];
  const named = (name: string) => ({ fieldName: name, displayName: name });
  switch (kind) {
    case "counter": {
      const value = q.alert?.column ?? q.columns[q.columns.length - 1];
      return { name: q.name, queries: query([value]), spec: { version: 2, widgetType: "counter", encodings: { value: named(value) }, frame } };
    }
    case "bar": {
      const [x, ...rest] = q.columns;
      const colour = rest.find((c) => q.groupBy.includes(c));
      const measures = rest.filter((c) => !q.groupBy.includes(c));
      const encodings = {
        x: { ...named(x), scale: { type: "temporal" } },
        y:
          measures.length === 1
            ? { ...named(measures[0]), scale: { type: "quantitative" } }
            : { scale: { type: "quantitative" }, fields: measures.map(named) },
        ...(colour ? { color: { ...named(colour), scale: { type: "categorical" } } } : {}),
      };
      return {
        name: q.name,
        queries: query(q.columns.filter((c) => c === x || c === colour || measures.includes(c))),
        spec: { version: 3, widgetType: "bar", encodings, frame },
      };
    }
    case "table":
      return {
        name: q.name,
        queries: query([...q.columns]),
        spec: {
          version: 1,
          widgetType: "table",
          encodings: { columns: q.columns.map((c, order) => ({ ...named(c), title: c, order, visible: true })) },
          frame,
        },
      };
  }
}
