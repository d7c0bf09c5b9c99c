/**
 * Who a Databricks ACL entry is for. Workspace ACLs (permissions, secret ACLs) name service principals by application
 * id and groups by display name, in different fields; Unity Catalog grants take either as a plain string.
 */
export type Principal = { readonly kind: "service_principal"; readonly applicationId: string } | { readonly kind: "group"; readonly name: string };

/** The environment's job principal: the run-as service principal when configured, otherwise the platform group. */
export function jobPrincipalOf(env: { readonly databricks: { readonly runAsServicePrincipal?: string; readonly platformGroup: string } }): Principal {
  const sp = env.databricks.runAsServicePrincipal;
  return sp ? { kind: "service_principal", applicationId: sp } : { kind: "group", name: env.databricks.platformGroup };
}

/** The string Unity Catalog grants and secret ACLs accept for this principal. */
export function principalName(principal: Principal): string {
  return principal.kind === "service_principal" ? principal.applicationId : principal.name;
}

/** One `access_control` entry of `databricks_permissions`. */
export function accessControl(principal: Principal, permissionLevel: string) {
  return principal.kind === "service_principal"
    ? { servicePrincipalName: principal.applicationId, permissionLevel }
    : { groupName: principal.name, permissionLevel };
}
