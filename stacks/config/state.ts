/**
 * Where one environment's Terraform state lives, with every default resolved: the one place both the environment's
 * backend (MembersStack) and the bootstrap stack that creates the state store (stacks/bootstrap) read, so the store
 * the bootstrap creates is exactly the one the backend names.
 */
import type { EnvironmentConfig } from "./schema";

/** S3 state: a bucket per environment, encrypted with a customer-managed KMS key found by its alias. */
export interface S3StateLocation {
  readonly type: "s3";
  readonly bucket: string;
  /** State object key; its lock file is `<key>.tflock` (use_lockfile). */
  readonly key: string;
  readonly region: string;
  /** `alias/<name>` of the state key: the backend's kms_key_id. */
  readonly kmsKeyAlias: string;
}

/** azurerm state: a container per environment in a storage account encrypted with a Key Vault key. */
export interface AzurermStateLocation {
  readonly type: "azurerm";
  readonly resourceGroupName: string;
  readonly storageAccountName: string;
  readonly containerName: string;
  readonly key: string;
}

export interface LocalStateLocation {
  readonly type: "local";
  readonly path: string;
}

export type StateLocation = S3StateLocation | AzurermStateLocation | LocalStateLocation;

/** The state key every remote backend defaults to: `members/<environment>.tfstate`. */
export const defaultStateKey = (environment: string): string => `members/${environment}.tfstate`;

/** The environment's state location with defaults filled in. */
export function stateLocation(env: Pick<EnvironmentConfig, "name" | "stackName" | "stateBackend">): StateLocation {
  const backend = env.stateBackend;
  switch (backend.type) {
    case "s3":
      return {
        type: "s3",
        bucket: backend.bucket,
        key: backend.key ?? defaultStateKey(env.name),
        region: backend.region,
        kmsKeyAlias: backend.kmsKeyAlias ?? `alias/${backend.bucket}`,
      };
    case "azurerm":
      return {
        type: "azurerm",
        resourceGroupName: backend.resourceGroupName,
        storageAccountName: backend.storageAccountName,
        containerName: backend.containerName,
        key: backend.key ?? defaultStateKey(env.name),
      };
    case "local":
      return { type: "local", path: backend.path ?? `terraform.${env.stackName}.tfstate` };
  }
}
