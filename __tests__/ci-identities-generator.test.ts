/**
 * What tools/ci-identities-doc.ts writes into docs/deploy/ci-identities.md, on the test configuration: the GitHub
 * environments of every environment CI deploys and the Databricks federation policies, for the configured repository.
 */
import { ciIdentitiesDoc } from "../tools/ci-identities-doc";
import { testConfig } from "./fixtures/test-config";

test("every environment CI deploys has its two GitHub environments, exact subjects and branch rules", () => {
  const doc = ciIdentitiesDoc(testConfig);
  const repository = testConfig.github!.repository;
  for (const env of testConfig.environments) {
    expect(doc).toContain(`### GitHub environment \`${env.name}-plan\``);
    expect(doc).toContain(`- OIDC subject: \`repo:${repository}:environment:${env.name}-plan\``);
    const apply = doc.slice(doc.indexOf(`### GitHub environment \`${env.name}\` (apply)`));
    expect(apply).toContain(`- OIDC subject: \`repo:${repository}:environment:${env.name}\``);
    expect(apply.slice(0, apply.indexOf("- Secrets"))).toContain("selected branches: `main` only");
    if (env.mode === "production") expect(apply.slice(0, apply.indexOf("- Secrets"))).toContain("at least one reviewer");
  }
});

test("the Databricks federation policies name the GitHub issuer and one exact subject each", () => {
  const doc = ciIdentitiesDoc(testConfig);
  const policies = [...doc.matchAll(/--json '(\{.*\})'/g)].map((m) => JSON.parse(m[1]));
  expect(policies.length).toBeGreaterThan(0);
  for (const { oidc_policy: policy } of policies) {
    expect(policy.issuer).toBe("https://token.actions.githubusercontent.com");
    expect(policy.subject).toMatch(new RegExp(`^repo:${testConfig.github!.repository}:environment:[a-z0-9-]+$`));
    expect(policy.audiences).toHaveLength(1);
  }
});

test("a change in the configuration changes the document (it is generated, not hand-written)", () => {
  const renamed = { ...testConfig, github: { repository: "someone/else" } };
  expect(ciIdentitiesDoc(renamed)).toContain("repo:someone/else:environment:live");
  expect(ciIdentitiesDoc(renamed)).not.toBe(ciIdentitiesDoc(testConfig));
});
