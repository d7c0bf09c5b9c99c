/**
 * The address contract: the Terraform address (type.logical_id) and identity (the name that forces a replacement when
 * it changes) of every stateful resource of every shipped stack, committed in __tests__/protected-addresses.json and
 * checked by jest. A renamed construct id changes an address; a changed prefix or catalog name changes an identity.
 * Either would make Terraform delete the resource and create a new one, with the data in it, so the check fails and
 * says how to move instead (docs/safety/changing-things-safely.md).
 */

import type { TerraformJson } from "../../stacks/common/terraform-json";
import { isStatefulType } from "../../stacks/protection/stateful-types";

/** Synthesized Terraform JSON of one stack. */
export type StackJson = TerraformJson;

/** address -> identity, for one stack. */
export type StackContract = Record<string, string>;
/** stack name -> its contract. */
export type AddressContract = Record<string, StackContract>;

/**
 * __tests__/protected-addresses.json: the contract of the stacks a repository has deployed, and which repository
 * (configuration `github.repository`) that is. A fork's configuration names its own repository, so the example's
 * contract does not hold for it; `make address-contract` starts the fork's own.
 */
export interface ContractFile {
  readonly repository: string;
  readonly stacks: AddressContract;
}

/** Whose contract the file is, for a configuration naming `repository`: undefined when it is this one's. */
export function foreignContract(file: ContractFile, repository: string | undefined): string | undefined {
  if (file.repository === repository) return undefined;
  return (
    `the address contract in __tests__/protected-addresses.json is ${file.repository}'s, not ${repository ?? "this configuration"}'s: ` +
    "nothing of yours is protected yet. After your first deploy, run make address-contract and commit the file " +
    "(docs/adapt/fork-checklist.md)"
  );
}

/**
 * Attributes whose change makes the provider replace the resource: its name in the cloud or in Unity Catalog, and a
 * catalog's storage root (documented as forcing a new resource).
 */
const IDENTITY_ATTRIBUTES = ["bucket", "name", "storage_root"] as const;

/** The identity of a resource: `name=...`, `bucket=...; ...`, or `-` when it has no naming attribute (a KMS key). */
function identityOf(resource: Record<string, unknown>): string {
  const parts = IDENTITY_ATTRIBUTES.filter((a) => typeof resource[a] === "string").map((a) => `${a}=${resource[a]}`);
  return parts.length > 0 ? parts.join("; ") : "-";
}

/** Every stateful resource of a synthesized stack, by address. */
export function stackContract(json: StackJson): StackContract {
  const contract: StackContract = {};
  for (const [type, byId] of Object.entries(json.resource ?? {})) {
    if (!isStatefulType(type)) continue;
    for (const [id, resource] of Object.entries(byId)) contract[`${type}.${id}`] = identityOf(resource);
  }
  return Object.fromEntries(Object.entries(contract).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * What breaks the contract, as readable problems: an address that disappeared without a `moved` block, an identity
 * that changed, a stack that vanished. New stateful resources of a stack in the contract are reported too (the
 * contract must be extended, so a reviewer sees them), but only as additions. A stack not in the contract is new.
 */
export function contractProblems(contract: AddressContract, stacks: Record<string, StackJson>): string[] {
  const problems: string[] = [];
  for (const [stack, expected] of Object.entries(contract)) {
    const json = stacks[stack];
    if (!json) {
      problems.push(`${stack}: the stack is no longer synthesized; every stateful resource in it would be destroyed with it`);
      continue;
    }
    const actual = stackContract(json);
    const movedTo = new Map((json.moved ?? []).map((m) => [m.from, m.to]));
    for (const [address, identity] of Object.entries(expected)) {
      const target = actual[address] !== undefined ? address : movedTo.get(address);
      if (target === undefined || actual[target] === undefined) {
        const [type] = address.split(".");
        const candidates = Object.keys(actual).filter((a) => a.startsWith(`${type}.`) && !(a in expected));
        problems.push(
          `${stack}: ${address} (${identity}) is no longer synthesized, so Terraform would destroy it` +
            (candidates.length > 0 ? ` and create ${candidates.join(", ")} in its place` : "") +
            `. Keep its construct id, or move it: call resource.moveFromId("${address}") on the renamed resource` +
            ` (a Terraform moved block), then update __tests__/protected-addresses.json.`,
        );
      } else if (actual[target] !== identity) {
        problems.push(
          `${stack}: ${target} changes ${identity} to ${actual[target]}: the provider replaces the resource (delete, then create)` +
            " and the data in it is lost. Revert the naming input, or replace it deliberately (docs/safety/changing-things-safely.md).",
        );
      }
    }
    const known = new Set([...Object.keys(expected), ...[...movedTo.values()]]);
    for (const address of Object.keys(actual).filter((a) => !known.has(a))) {
      problems.push(`${stack}: new stateful resource ${address} (${actual[address]}): add it to __tests__/protected-addresses.json`);
    }
  }
  // A stack not in the contract has not been deployed: nothing of it can be lost yet (make address-contract adds it).
  return problems;
}
