/**
 * docs/deploy/ci-identities.md is generated from the shipped configuration (`make ci-identities-doc`): the GitHub
 * environment settings and Databricks federation policies no provider applies. It must match the generator; a fork
 * regenerates it (the fork lane skips this suite). What the generator writes: ci-identities-generator.test.ts.
 */
import { readFileSync } from "node:fs";
import { CI_IDENTITIES_DOC, ciIdentitiesDoc } from "../tools/ci-identities-doc";

test("the committed docs/deploy/ci-identities.md is what `make ci-identities-doc` generates from the configuration", () => {
  expect(readFileSync(CI_IDENTITIES_DOC, "utf8")).toBe(ciIdentitiesDoc());
});
