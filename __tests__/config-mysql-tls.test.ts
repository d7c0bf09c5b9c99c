/**
 * The per-environment `mysql` block (issue 25 item 5): how the extract authenticates the MySQL server. Default
 * VERIFY_IDENTITY (the notebooks' contract default); a production environment refuses anything weaker; the optional
 * trust store is a file in a Unity Catalog volume and only goes with a verifying mode.
 */
import contract from "../notebooks/members_pipeline/contract.json";
import { type EnvironmentInput, MYSQL_SSL_MODES } from "../stacks/config/schema";
import { ConfigError, type ConfigProblem, formatProblem, validateConfig } from "../stacks/config/validate";

const SP = "5f0c2a52-8d4e-4b7a-9c2e-7a1d3e0b6f90";

function env(mode: "development" | "production", mysql?: Record<string, unknown>): EnvironmentInput {
  return {
    name: "dev",
    cloud: "aws",
    region: "eu-west-1",
    prefix: "acme-members",
    mode,
    databricks: { host: "https://dbc-3f9a2c1e-77b0.cloud.databricks.com", authType: "oauth-m2m", runAsServicePrincipal: SP },
    catalog: { name: "members_dev" },
    notifications: { failureEmails: ["alerts@acme.io"] },
    schedules: { extract: { cron: "0 0 2 * * ?" }, load: { type: "file_arrival" } },
    cluster: { nodeType: "m6gd.large", minWorkers: 0, maxWorkers: 2 },
    storage: { retentionDays: 30 },
    stateBackend: { type: "s3", bucket: "acme-state", region: "eu-west-1" },
    ...(mysql ? { mysql } : {}),
  } as EnvironmentInput;
}

const validated = (e: EnvironmentInput) => validateConfig({ environments: [e] })[0];

function problemsOf(e: EnvironmentInput): ConfigProblem[] {
  try {
    validateConfig({ environments: [e] });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected the configuration to be rejected");
}

describe("mysql TLS settings", () => {
  test("default: VERIFY_IDENTITY, the notebooks' default, with the JVM's trust store", () => {
    expect(contract.notebooks.extract.ssl_mode.default).toBe("VERIFY_IDENTITY");
    for (const mode of ["development", "production"] as const) {
      expect(validated(env(mode)).mysql).toEqual({ sslMode: "VERIFY_IDENTITY" });
    }
  });

  test("the schema's modes are the notebooks' (config.py SSL_MODES), weakest first, VERIFY_IDENTITY last", () => {
    expect(MYSQL_SSL_MODES).toEqual(["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"]);
  });

  test.each(MYSQL_SSL_MODES.filter((m) => m !== "VERIFY_IDENTITY"))("production refuses sslMode %s", (sslMode) => {
    const problems = problemsOf(env("production", { sslMode }));
    expect(problems).toHaveLength(1);
    expect(formatProblem(problems[0])).toMatch(
      new RegExp(`^environments\\.dev\\.mysql\\.sslMode: got "${sslMode}", expected VERIFY_IDENTITY in production mode: `),
    );
  });

  test("development may use a weaker mode (a test server without a certificate for its name)", () => {
    expect(validated(env("development", { sslMode: "REQUIRED" })).mysql.sslMode).toBe("REQUIRED");
    expect(validated(env("development", { sslMode: "VERIFY_CA" })).mysql.sslMode).toBe("VERIFY_CA");
  });

  test("production with VERIFY_IDENTITY and a trust store in a volume", () => {
    const mysql = { sslMode: "VERIFY_IDENTITY", trustStorePath: "/Volumes/main/security/tls/mysql-ca.p12" };
    expect(validated(env("production", mysql)).mysql).toEqual(mysql);
  });

  test.each([
    ["a local path", "/tmp/ca.p12"],
    ["a volume without a file", "/Volumes/main/security/tls/"],
    ["URL parameters", "/Volumes/main/security/tls/ca.p12?x=1&y"],
    ["a file: URL", "file:/Volumes/main/security/tls/ca.p12"],
    ["whitespace", "/Volumes/main/security/tls/ca p12"],
  ])("trustStorePath: %s is refused", (_case, trustStorePath) => {
    const problems = problemsOf(env("development", { trustStorePath }));
    expect(problems.map(formatProblem)).toEqual([
      `environments.dev.mysql.trustStorePath: got ${JSON.stringify(trustStorePath)}, expected a file in a Unity Catalog volume, /Volumes/<catalog>/<schema>/<volume>/<path>`,
    ]);
  });

  test("a trust store with a mode that does not verify is refused (it would be silently ignored)", () => {
    const problems = problemsOf(env("development", { sslMode: "REQUIRED", trustStorePath: "/Volumes/main/security/tls/ca.p12" }));
    expect(problems.map(formatProblem)).toEqual([
      'environments.dev.mysql.trustStorePath: got "/Volumes/main/security/tls/ca.p12", expected no trust store with sslMode REQUIRED (it applies to VERIFY_CA and VERIFY_IDENTITY only)',
    ]);
  });

  test("unknown mode and unknown keys", () => {
    expect(problemsOf(env("development", { sslMode: "verify_identity" })).map(formatProblem)).toEqual([
      `environments.dev.mysql.sslMode: got "verify_identity", expected a Connector/J sslMode, one of ${MYSQL_SSL_MODES.join(", ")}`,
    ]);
    expect(problemsOf(env("development", { caPath: "/Volumes/a/b/c/ca.pem" })).map((p) => p.path)).toEqual(["environments.dev.mysql"]);
  });
});
