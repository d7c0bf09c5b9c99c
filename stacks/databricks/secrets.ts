import { Secret } from "@cdktf/provider-databricks/lib/secret";
import { SecretAcl } from "@cdktf/provider-databricks/lib/secret-acl";
import { SecretScope } from "@cdktf/provider-databricks/lib/secret-scope";
import { TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import contract from "../../notebooks/members_pipeline/contract.json";
import { requireLiteral } from "../common/validation";
import { type Principal, principalName } from "./principal";

/** The keys the notebooks read (`secretKeys` of notebooks/members_pipeline/contract.json); each comes from TF_VAR_<variablePrefix>_<key>. */
export const MYSQL_SECRET_KEYS: readonly string[] = contract.secretKeys;

/** An Azure Key Vault as a Key Vault-backed secret scope names it. */
export interface KeyVaultReference {
  /** ARM resource id of the vault. */
  readonly resourceId: string;
  /** The vault URI (`https://<name>.vault.azure.net/`). */
  readonly dnsName: string;
}

export interface MysqlSecretScopeProps {
  /** Secret scope name, e.g. `<prefix>-<env>-mysql`. */
  readonly scopeName: string;
  /** Granted READ on the scope: the identity the jobs run as. */
  readonly reader: Principal;
  /**
   * Back the scope with this Azure Key Vault instead of Databricks-managed storage. The vault then holds the values
   * (set by operators), so no Terraform variable or databricks_secret is created.
   * @default a Databricks-backed scope filled from TF_VAR_mysql_*
   */
  readonly keyVault?: KeyVaultReference;
  /**
   * Prefix of the Terraform variables feeding a Databricks-backed scope: one `<variablePrefix>_<key>` per secret key
   * (TF_VAR_<variablePrefix>_host, ...). A second scope takes its own, e.g. `mysql_generator` for the development
   * generator's credentials, so neither scope's values can feed the other.
   * @default "mysql" (the extract's `mysql_<key>` variables, a documented and address-contracted name)
   */
  readonly variablePrefix?: string;
  /**
   * Who uses the credentials, for the variables' descriptions.
   * @default "the extract job"
   */
  readonly usedBy?: string;
}

/**
 * The secret scope holding the MySQL connection details. Databricks-backed (default): the values are sensitive
 * Terraform variables (`TF_VAR_mysql_host`, ...), so they live only in the deployer's environment and in the state,
 * never in code or in the synthesized JSON. Key Vault-backed: the scope points at the vault and Terraform never sees
 * the values.
 *
 * One instance per set of credentials: the extract's (variables `mysql_<key>`) and, in development, the generator's
 * (`variablePrefix: "mysql_generator"`: its own scope, variables, secrets and ACL; a MySQL user with DDL rights on
 * the test database that the extract's read-only user does not need).
 */
export class MysqlSecretScope extends Construct {
  readonly scope: SecretScope;
  /** The scope's name as a reference, so consumers are created after it. */
  readonly scopeName: string;
  /** The sensitive variables feeding a Databricks-backed scope; empty when Key Vault-backed. */
  readonly variables: Partial<Record<string, TerraformVariable>>;

  constructor(scope: Construct, id: string, props: MysqlSecretScopeProps) {
    super(scope, id);
    requireLiteral(
      "MysqlSecretScope",
      "scopeName",
      props.scopeName,
      (n) => /^[A-Za-z0-9._-]{1,128}$/.test(n),
      "1-128 letters, digits, '.', '_' or '-'",
    );

    this.scope = new SecretScope(this, "scope", {
      name: props.scopeName,
      ...(props.keyVault ? { backendType: "AZURE_KEYVAULT", keyvaultMetadata: props.keyVault } : {}),
    });
    this.scopeName = this.scope.name;
    const prefix = props.variablePrefix ?? "mysql";
    requireLiteral("MysqlSecretScope", "variablePrefix", prefix, (p) => /^[a-z][a-z0-9_]{0,40}$/.test(p), "lower-case letters, digits and _");

    const variables: Partial<Record<string, TerraformVariable>> = {};
    for (const key of props.keyVault ? [] : MYSQL_SECRET_KEYS) {
      const variable = new TerraformVariable(this, `${prefix.replaceAll("_", "-")}-${key}`, {
        type: "string",
        sensitive: true,
        nullable: false,
        description: `MySQL ${key} for ${props.usedBy ?? "the extract job"}; set TF_VAR_${prefix}_${key}.`,
      });
      // The variable name is the TF_VAR_ contract docs/deploy/credentials.md documents: no construct-path hash.
      variable.overrideLogicalId(`${prefix}_${key}`);
      variables[key] = variable;
      new Secret(this, `secret-${key}`, { scope: this.scope.name, key, stringValue: variable.stringValue });
    }
    this.variables = variables;

    new SecretAcl(this, "reader-acl", { scope: this.scope.name, principal: principalName(props.reader), permission: "READ" });
  }
}
