/**
 * Protection of stateful resources, in one place. Constructs call `protect(resource)` on every resource that holds
 * data (or the key or registration without which the data is unreadable); whether that means anything is decided
 * once per stack from the environment (`setProtection`, driven by `protectStatefulResources`, on in production).
 *
 * Protected means:
 * - `lifecycle.prevent_destroy`: Terraform refuses any plan that would delete or replace the resource, so a renamed
 *   construct id, a changed name or a careless `cdktf destroy` stops at plan time instead of deleting data;
 * - `force_destroy = false` where the resource has it (S3 bucket, Unity Catalog catalog, schema, storage credential,
 *   external location): a destroy that gets past Terraform still fails on a non-empty object;
 * - KMS keys: the longest deletion window, 30 days (AWS allows 7-30), to cancel a scheduled deletion.
 *
 * The policy rule MEM-DAT-001 (stacks/policy/rules.ts) fails synth when a stateful type in a protected stack is
 * not protected, so a new construct cannot forget to call this.
 */
import { TerraformResource } from "cdktf";
import type { IConstruct } from "constructs";
import { isStatefulType } from "./stateful-types";

/** The longest KMS key deletion window AWS accepts. */
export const KMS_MAX_DELETION_WINDOW_DAYS = 30;

const SETTING = "members:protectStatefulResources";

/** Turns protection on or off for every protect() call under `scope`; call it before building children. */
export function setProtection(scope: IConstruct, enabled: boolean): void {
  scope.node.setContext(SETTING, enabled);
}

/** Whether protect() under `scope` protects; true unless a scope above said otherwise (safe by default). */
export function protectionEnabled(scope: IConstruct): boolean {
  return scope.node.tryGetContext(SETTING) !== false;
}

/** Marks a stateful resource protected (see the module comment); returns it for chaining. */
export function protect<T extends TerraformResource>(resource: T): T {
  if (!isStatefulType(resource.terraformResourceType)) {
    throw new Error(
      `protect: ${resource.node.path}: got a ${resource.terraformResourceType}, expected a stateful type listed in stacks/protection/stateful-types.ts`,
    );
  }
  if (!protectionEnabled(resource)) return resource;
  resource.lifecycle = { ...resource.lifecycle, preventDestroy: true };
  const target = resource as unknown as { forceDestroy?: unknown; deletionWindowInDays?: unknown };
  if ("forceDestroy" in resource) target.forceDestroy = false;
  if (resource.terraformResourceType === "aws_kms_key") target.deletionWindowInDays = KMS_MAX_DELETION_WINDOW_DAYS;
  return resource;
}

/** True when `construct` is a resource protect() applies to. */
export function isStatefulResource(construct: IConstruct): construct is TerraformResource {
  return construct instanceof TerraformResource && isStatefulType(construct.terraformResourceType);
}
