/**
 * The fork lane (`make fork-check`): every suite of jest.config.js run against a forked configuration instead of the
 * shipped example. moduleNameMapper replaces the module stacks/config/environments, however it is imported (`./environments`
 * inside stacks/config, `../stacks/config/environments` from tests and tools, ...), with
 * __tests__/fixtures/forked-environments.ts: other prefixes, another github.repository, the Azure example removed, a
 * `qa` environment added. Proves that tests test the code, not the example (docs/adapt/fork-checklist.md).
 */
const base = require("./jest.config.js");

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  moduleNameMapper: {
    "^(\\.{1,2}/)+(stacks/)?config/environments$": "<rootDir>/__tests__/fixtures/forked-environments.ts",
    "^\\./environments$": "<rootDir>/__tests__/fixtures/forked-environments.ts",
  },
  // Only the freshness of files generated from the shipped configuration is skipped: a fork regenerates them (`make
  // diagrams`, `make ci-identities-doc`; docs/adapt/fork-checklist.md), so against another configuration they differ
  // by design. What the generators draw and write is tested on the test configuration (resource-diagram.test.ts,
  // ci-identities-generator.test.ts), here too. docs/reference/ does not depend on the configuration: it stays. So does
  // the address contract: it skips itself when github.repository is not the one protected-addresses.json records.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/__tests__/diagrams\\.test\\.ts$", "<rootDir>/__tests__/ci-identities-doc\\.test\\.ts$"],
};
