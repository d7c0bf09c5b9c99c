/**
 * Terraform resource types that hold data, or the keys and grants without which the data is unreadable. Deleting or
 * replacing one loses landing files or the Delta tables (`members`, quarantine, load log) that live in the managed
 * storage. The one list both `protect()` (lifecycle.prevent_destroy in production) and the plan guard
 * (tools/plan-guard) read, so a new stateful type is protected and guarded by adding it here.
 */
export const STATEFUL_RESOURCE_TYPES: Readonly<Record<string, string>> = {
  aws_s3_bucket: "landing files and the managed Delta tables' files",
  aws_kms_key: "encrypts every object of the bucket: without it nothing can be decrypted",
  aws_kms_alias: "the name the key is found by",
  azurerm_resource_group: "deleting the group deletes the storage account and vault inside it",
  azurerm_storage_account: "landing files and the managed Delta tables' files",
  azurerm_storage_container: "landing files and the managed Delta tables' files",
  azurerm_key_vault: "MySQL secrets set by operators, outside Terraform",
  azurerm_key_vault_key: "the customer-managed key of the Terraform state account: without it the state is unreadable",
  databricks_catalog: "dropping a catalog drops its managed tables",
  databricks_schema: "dropping a schema drops its managed tables (members, quarantine, load log)",
  databricks_storage_credential: "Unity Catalog's access to the storage; locations and tables depend on it",
  databricks_external_location: "registers the landing and managed storage; recreating it re-validates and loses its grants",
};

/** True when a resource of this Terraform type is stateful (see STATEFUL_RESOURCE_TYPES). */
export function isStatefulType(type: string): boolean {
  return Object.hasOwn(STATEFUL_RESOURCE_TYPES, type);
}
