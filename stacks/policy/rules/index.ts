/** Every rule of the policy pack, one file per area; each rule has an id, a one-line description and an explanation. */
import type { PolicyRule } from "../rule";
import { DATA_RULES } from "./data";
import { DEPLOY_RULES } from "./deploy";
import { JOB_RULES } from "./jobs";
import { SECRET_AND_TAG_RULES } from "./secrets-and-tags";
import { STORAGE_RULES } from "./storage";
import { WAREHOUSE_RULES } from "./warehouse";

export const RULES: readonly PolicyRule[] = [
  ...STORAGE_RULES,
  ...JOB_RULES,
  ...SECRET_AND_TAG_RULES,
  ...DEPLOY_RULES,
  ...DATA_RULES,
  ...WAREHOUSE_RULES,
];
