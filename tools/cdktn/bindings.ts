/**
 * Hand-written stand-ins for the two providers that have no CDK Terrain prebuilt package (`@cdktn/provider-time`,
 * `@cdktn/provider-azuread` do not exist): exactly the classes and members the app uses, over the generic
 * `TerraformProvider` / `TerraformResource` / `TerraformDataSource` that cdktf and cdktn share.
 *
 * Written against `cdktf` so they type-check and are tested in this repository (__tests__/cdktn.test.ts synthesizes
 * them next to the prebuilt @cdktf classes and expects identical JSON); the cdktn codemod (tools/cdktn/codemod.ts)
 * points `@cdktf/provider-time/...` and `@cdktf/provider-azuread/...` imports here and rewrites `cdktf` to `cdktn`.
 * The provider versions are the ones the frozen @cdktf packages pin, so `required_providers` stays the same.
 */
import { TerraformDataSource, type TerraformMetaArguments, TerraformProvider, TerraformResource } from "cdktf";
import type { Construct } from "constructs";

/** What the prebuilt bindings would put in `required_providers` (version) and `terraform.required_providers.*.source`. */
const TIME = { providerName: "time", providerVersion: "0.13.1", providerVersionConstraint: "~> 0.7" };
const AZUREAD = { providerName: "azuread", providerVersion: "3.7.0", providerVersionConstraint: "~> 3.0" };

/** Drops unset attributes, as the generated bindings' `synthesizeAttributes` results are filtered by the synthesizer. */
const defined = (attributes: Record<string, unknown>) => Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined));

/** `provider "time" {}` (hashicorp/time). */
export class TimeProvider extends TerraformProvider {
  constructor(scope: Construct, id: string) {
    super(scope, id, { terraformResourceType: "time", terraformGeneratorMetadata: TIME, terraformProviderSource: "hashicorp/time" });
  }
}

/** `provider "azuread" {}` (hashicorp/azuread): configured from ARM_* environment variables only. */
export class AzureadProvider extends TerraformProvider {
  constructor(scope: Construct, id: string, _config: Record<string, never> = {}) {
    super(scope, id, { terraformResourceType: "azuread", terraformGeneratorMetadata: AZUREAD, terraformProviderSource: "hashicorp/azuread" });
  }
}

export interface SleepConfig extends TerraformMetaArguments {
  readonly createDuration?: string;
  readonly destroyDuration?: string;
  readonly triggers?: Record<string, string>;
}

/** `resource "time_sleep"`. */
export class Sleep extends TerraformResource {
  private readonly config: SleepConfig;

  constructor(scope: Construct, id: string, config: SleepConfig = {}) {
    super(scope, id, { ...metaArguments(config), terraformResourceType: "time_sleep", terraformGeneratorMetadata: TIME });
    this.config = config;
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    const { createDuration, destroyDuration, triggers } = this.config;
    return defined({ create_duration: createDuration, destroy_duration: destroyDuration, triggers });
  }
}

export interface DataAzureadServicePrincipalConfig extends TerraformMetaArguments {
  readonly clientId?: string;
  readonly displayName?: string;
  readonly objectId?: string;
}

/** `data "azuread_service_principal"`: looked up by exactly one of client id, display name or object id. */
export class DataAzureadServicePrincipal extends TerraformDataSource {
  private readonly config: DataAzureadServicePrincipalConfig;

  constructor(scope: Construct, id: string, config: DataAzureadServicePrincipalConfig = {}) {
    super(scope, id, { ...metaArguments(config), terraformResourceType: "azuread_service_principal", terraformGeneratorMetadata: AZUREAD });
    this.config = config;
  }

  get objectId(): string {
    return this.getStringAttribute("object_id");
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    const { clientId, displayName, objectId } = this.config;
    return defined({ client_id: clientId, display_name: displayName, object_id: objectId });
  }
}

/** The Terraform meta-arguments of a config (depends_on, count, provider, lifecycle...), without its attributes. */
function metaArguments(config: TerraformMetaArguments): TerraformMetaArguments {
  const { dependsOn, count, provider, lifecycle, forEach, provisioners, connection } = config;
  return { dependsOn, count, provider, lifecycle, forEach, provisioners, connection };
}
