/** SQL warehouse rules (MEM-SQL): a warehouse the stack creates is serverless, stops when idle and is tagged. */
import { asList, isTrue, missingTags, resources } from "../json";
import type { PolicyRule, Violation } from "../rule";

/** Longest idle time before a warehouse stops: beyond it an idle warehouse costs more than it saves in start-up time. */
export const MAX_WAREHOUSE_AUTO_STOP_MINUTES = 30;

export const WAREHOUSE_RULES: readonly PolicyRule[] = [
  {
    id: "MEM-SQL-001",
    description: `Every SQL warehouse is serverless, stops after at most ${MAX_WAREHOUSE_AUTO_STOP_MINUTES} idle minutes, and carries the standard tags`,
    explanation:
      "A classic or pro warehouse bills its cloud instances besides the DBUs and takes minutes to start; auto_stop_mins = 0 never stops it, so a dashboard viewed once keeps it running (and billing) all month. Its custom tags are its cost allocation.",
    check(tf, ctx) {
      const out: Violation[] = [];
      for (const [id, p] of resources(tf, "databricks_sql_endpoint")) {
        const address = `databricks_sql_endpoint.${id}`;
        if (!isTrue(p.enable_serverless_compute)) {
          out.push({ address, message: `got enable_serverless_compute ${JSON.stringify(p.enable_serverless_compute)}, expected true` });
        }
        const stop = p.auto_stop_mins;
        if (typeof stop !== "number" || stop < 1 || stop > MAX_WAREHOUSE_AUTO_STOP_MINUTES) {
          out.push({ address, message: `got auto_stop_mins ${JSON.stringify(stop)}, expected 1-${MAX_WAREHOUSE_AUTO_STOP_MINUTES} minutes` });
        }
        const tags = Object.fromEntries(asList(asList(p.tags)[0]?.custom_tags).map((t) => [t.key, t.value]));
        const missing = missingTags(tags, ctx.requiredTags);
        if (missing.length > 0) out.push({ address, message: `custom_tags lack ${missing.join(", ")}` });
      }
      return out;
    },
  },
];
