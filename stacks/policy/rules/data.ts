/**
 * Data-safety rules (MEM-DAT-xxx): stateful resources of a protected stack cannot be destroyed by accident. The
 * resource types come from the one list stacks/protection reads, so a new stateful type is covered by adding it there.
 */
import { KMS_MAX_DELETION_WINDOW_DAYS } from "../../protection/protect";
import { isStatefulType } from "../../protection/stateful-types";
import type { PolicyRule, Violation } from "../rule";

export const DATA_RULES: readonly PolicyRule[] = [
  {
    id: "MEM-DAT-001",
    description:
      "In a protected stack every stateful resource has lifecycle.prevent_destroy, no force_destroy, and KMS keys the longest deletion window",
    explanation:
      "Deleting or replacing a stateful resource loses landing files or the Delta tables; prevent_destroy stops such a plan (docs/safety/changing-things-safely.md).",
    check(tf, ctx) {
      if (!ctx.protectStatefulResources) return [];
      const out: Violation[] = [];
      for (const [type, byId] of Object.entries(tf.resource ?? {})) {
        if (!isStatefulType(type)) continue;
        for (const [id, r] of Object.entries(byId)) {
          const problems: string[] = [];
          if (r.lifecycle?.prevent_destroy !== true) problems.push("lifecycle.prevent_destroy is not true");
          if (r.force_destroy === true || r.force_destroy === "true") problems.push("force_destroy is true");
          if (type === "aws_kms_key" && Number(r.deletion_window_in_days) !== KMS_MAX_DELETION_WINDOW_DAYS) {
            problems.push(`deletion_window_in_days is ${JSON.stringify(r.deletion_window_in_days)}, expected ${KMS_MAX_DELETION_WINDOW_DAYS}`);
          }
          if (problems.length > 0)
            out.push({ address: `${type}.${id}`, message: `${problems.join("; ")} (protect() it: stacks/protection/protect.ts)` });
        }
      }
      return out;
    },
  },
];
