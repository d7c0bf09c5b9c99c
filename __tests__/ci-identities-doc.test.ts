/**
 * docs/deploy/ci-identities.md is generated from the configuration (`make ci-identities-doc`): the GitHub environment
 * settings and Databricks federation policies no provider applies. It must match the generator, and say what the
 * bootstrap stacks trust.
 */
import { readFileSync } from "node:fs";
import { config as shipped } from "../stacks/config/environments";
import { CI_IDENTITIES_DOC, ciIdentitiesDoc } from "../tools/ci-identities-doc";

test("the committed docs/deploy/ci-identities.md is what `make ci-identities-doc` generates from the configuration", () => {
  expect(readFileSync(CI_IDENTITIES_DOC, "utf8")).toBe(ciIdentitiesDoc());
});

test("every environment CI deploys has its two GitHub environments, exact subjects and branch rules", () => {
  const doc = ciIdentitiesDoc();
  const repository = shipped.github!.repository;
  for (const env of shipped.environments) {
    expect(doc).toContain(`### GitHub environment \`${env.name}-plan\``);
    expect(doc).toContain(`- OIDC subject: \`repo:${repository}:environment:${env.name}-plan\``);
    const apply = doc.slice(doc.indexOf(`### GitHub environment \`${env.name}\` (apply)`));
    expect(apply).toContain(`- OIDC subject: \`repo:${repository}:environment:${env.name}\``);
    expect(apply.slice(0, apply.indexOf("- Secrets"))).toContain("selected branches: `main` only");
    if (env.mode === "production") expect(apply.slice(0, apply.indexOf("- Secrets"))).toContain("at least one reviewer");
  }
});

test("the Databricks federation policies name the GitHub issuer and one exact subject each", () => {
  const doc = ciIdentitiesDoc();
  const policies = [...doc.matchAll(/--json '(\{.*\})'/g)].map((m) => JSON.parse(m[1]));
  expect(policies.length).toBeGreaterThan(0);
  for (const { oidc_policy: policy } of policies) {
    expect(policy.issuer).toBe("https://token.actions.githubusercontent.com");
    expect(policy.subject).toMatch(new RegExp(`^repo:${shipped.github!.repository}:environment:[a-z0-9-]+$`));
    expect(policy.audiences).toHaveLength(1);
  }
});

test("a change in the configuration changes the document (it is generated, not hand-written)", () => {
  const renamed = { ...shipped, github: { repository: "someone/else" } };
  expect(ciIdentitiesDoc(renamed)).toContain("repo:someone/else:environment:prod");
  expect(ciIdentitiesDoc(renamed)).not.toBe(ciIdentitiesDoc());
});
