/** Protected stateful resources (stacks/protection): what production stacks synthesize, and the protect() API. */
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { TerraformStack, Testing } from "cdktf";
import { protect, setProtection } from "../stacks/protection/protect";
import { isStatefulType } from "../stacks/protection/stateful-types";
import { synthAll, type TerraformJson } from "./synth-helpers";

let stacks: Record<string, TerraformJson>;
beforeAll(() => {
  ({ stacks } = synthAll());
});

function statefulResources(json: TerraformJson): [string, Record<string, any>][] {
  return Object.entries(json.resource ?? {})
    .filter(([type]) => isStatefulType(type))
    .flatMap(([type, byId]) => Object.entries(byId).map(([id, r]) => [`${type}.${id}`, r] as [string, Record<string, any>]));
}

test.each(["members-live", "members-preview"])("%s: every stateful resource has prevent_destroy, no force_destroy, KMS 30 days", (name) => {
  const resources = statefulResources(stacks[name]);
  expect(resources.length).toBeGreaterThanOrEqual(8);
  for (const [address, r] of resources) {
    expect([address, r.lifecycle?.prevent_destroy]).toEqual([address, true]);
    if (/^(aws_s3_bucket|databricks_(catalog|schema|storage_credential|external_location))\./.test(address))
      expect([address, r.force_destroy]).toEqual([address, false]);
    if (address.startsWith("aws_kms_key.")) expect(r.deletion_window_in_days).toBe(30);
  }
});

test("development stacks are not protected unless the environment says so", () => {
  for (const name of ["members-sandbox", "members-lab"]) {
    for (const [address, r] of statefulResources(stacks[name])) expect([address, r.lifecycle]).toEqual([address, undefined]);
  }
});

test("protect() refuses a resource type that is not listed as stateful", () => {
  const stack = new TerraformStack(Testing.app(), "t");
  setProtection(stack, true);
  const versioning = new S3BucketVersioningA(stack, "versioning", { bucket: "b", versioningConfiguration: { status: "Enabled" } });
  expect(() => protect(versioning)).toThrow(
    /got a aws_s3_bucket_versioning, expected a stateful type listed in stacks\/protection\/stateful-types\.ts/,
  );
});
