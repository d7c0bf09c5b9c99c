/** Secrets and tags (MEM-SEC, MEM-TAG): no secret in code, the standard tags on everything taggable. */
import { asList, missingTags, resources } from "../json";
import type { PolicyRule, Violation } from "../rule";

export const SECRET_AND_TAG_RULES: readonly PolicyRule[] = [
  {
    id: "MEM-SEC-001",
    description: "No literal secret values: every databricks_secret string_value is a sensitive Terraform variable without a default",
    explanation: "A literal in code or a non-sensitive variable ends up in the repository, the plan output or CI logs.",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, secret] of resources(tf, "databricks_secret")) {
        const name = typeof secret.string_value === "string" ? /^\$\{var\.([A-Za-z0-9_-]+)\}$/.exec(secret.string_value)?.[1] : undefined;
        const variable = name === undefined ? undefined : tf.variable?.[name];
        if (name === undefined) {
          out.push({ address: `databricks_secret.${id}`, message: `string_value of key ${JSON.stringify(secret.key)} is not a \${var.…} reference` });
        } else if (variable?.sensitive !== true) {
          out.push({ address: `databricks_secret.${id}`, message: `variable ${name} is not declared sensitive` });
        } else if (variable.default !== undefined) {
          out.push({ address: `databricks_secret.${id}`, message: `variable ${name} has a default value (a literal secret in code)` });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-TAG-001",
    description: "Every taggable resource carries the standard tags (AWS through provider default_tags, azurerm and jobs directly)",
    explanation: "Cost allocation and ownership queries rely on every resource carrying the standard tags.",
    check(tf, ctx) {
      const out: Violation[] = [];
      const hasAws = Object.keys(tf.resource ?? {}).some((type) => type.startsWith("aws_"));
      if (hasAws) {
        const providers = asList(tf.provider?.aws);
        if (providers.length === 0) out.push({ address: "provider.aws", message: "no aws provider with default_tags" });
        providers.forEach((provider, index) => {
          const tags = Object.assign({}, ...asList(provider.default_tags).map((d) => d.tags ?? {}));
          const missing = missingTags(tags, ctx.requiredTags);
          if (missing.length > 0)
            out.push({
              address: `provider.aws${provider.alias ? `.${provider.alias}` : `[${index}]`}`,
              message: `default_tags lack ${missing.join(", ")}`,
            });
        });
      }
      for (const [type, byId] of Object.entries(tf.resource ?? {})) {
        const direct = type.startsWith("azurerm_") || type === "databricks_job";
        if (!direct) continue;
        for (const [id, props] of Object.entries(byId)) {
          const path: string | undefined = props["//"]?.metadata?.path;
          if (type !== "databricks_job" && (path === undefined || !ctx.taggablePaths.has(path))) continue;
          const missing = missingTags(props.tags, ctx.requiredTags);
          if (missing.length > 0) out.push({ address: `${type}.${id}`, message: `tags lack ${missing.join(", ")}` });
        }
      }
      return out;
    },
  },
];
