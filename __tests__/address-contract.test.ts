/**
 * The address contract (tools/address-contract): the shipped stacks' stateful resources keep their Terraform
 * addresses and identities, as committed in protected-addresses.json. A renamed construct or a changed naming input
 * fails with a message saying what would be replaced and how to move instead; a rename with a move passes.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { LandingBucket } from "../stacks/aws/landing-bucket";
import { config as shipped } from "../stacks/config/environments";
import {
  type AddressContract,
  type ContractFile,
  contractProblems,
  foreignContract,
  type StackJson,
  stackContract,
} from "../tools/address-contract/contract";
import { testEnv } from "./fixtures/test-config";
import { synthAll, synthEveryStack } from "./synth-helpers";

const FILE: ContractFile = JSON.parse(readFileSync(path.join(__dirname, "protected-addresses.json"), "utf8"));
const CONTRACT = FILE.stacks;
// A fork's configuration names its own repository: the committed contract is then the example's, not a record of
// anything the fork deployed, and its checks are skipped with the way to start the fork's own.
const foreign = foreignContract(FILE, shipped.github?.repository);
const ours = foreign === undefined ? test : test.skip;

ours(foreign ?? "every deployed stack keeps the addresses and identities of its stateful resources", () => {
  // Every stack, the bootstrap stacks' state buckets, keys and containers included.
  // The shipped configuration's stacks: the contract records them (`make address-contract`), not the tests' configuration.
  const problems = contractProblems(CONTRACT, synthEveryStack(shipped) as Record<string, StackJson>);
  // On failure the messages say which resource would be replaced and how to move it instead.
  expect(problems).toEqual([]);
});

test("the example's contract is another repository's for a fork, with the way to start its own", () => {
  expect(foreignContract({ repository: "acme-example/members-lakehouse", stacks: {} }, "acme-example/members-lakehouse")).toBeUndefined();
  expect(foreignContract({ repository: "acme-example/members-lakehouse", stacks: {} }, "contoso/members")).toMatch(
    /^the address contract in __tests__\/protected-addresses\.json is acme-example\/members-lakehouse's, not contoso\/members's: .*run make address-contract/,
  );
});

test("a stack not in the contract is new (not deployed yet): nothing to protect, no problem", () => {
  const stacks = synthEveryStack() as Record<string, StackJson>;
  const [first] = Object.keys(stacks);
  expect(contractProblems({ [first]: stackContract(stacks[first]) }, stacks)).toEqual([]);
  expect(contractProblems({ [first]: stackContract(stacks[first]) }, {})).toEqual([
    `${first}: the stack is no longer synthesized; every stateful resource in it would be destroyed with it`,
  ]);
});

/** The resource types a contract protects, sorted. */
const kindsOf = (contract: AddressContract) =>
  [...new Set(Object.values(contract).flatMap((c) => Object.keys(c).map((a) => a.split(".")[0])))].sort();
const contractOf = (stacks: Record<string, StackJson>): AddressContract =>
  Object.fromEntries(Object.entries(stacks).map(([name, json]) => [name, stackContract(json)]));

ours("the committed contract covers every stateful kind of resource the configured stacks hold", () => {
  expect(kindsOf(CONTRACT)).toEqual(kindsOf(contractOf(synthEveryStack(shipped) as Record<string, StackJson>)));
});

test("a contract covers both clouds and every stateful kind of resource (the test configuration's stacks)", () => {
  expect(kindsOf(contractOf(synthEveryStack() as Record<string, StackJson>))).toEqual([
    "aws_kms_alias",
    "aws_kms_key",
    "aws_s3_bucket",
    // The state account's vault and customer-managed key (members-bootstrap-azure).
    "azurerm_key_vault",
    "azurerm_key_vault_key",
    "azurerm_resource_group",
    "azurerm_storage_account",
    "azurerm_storage_container",
    "databricks_catalog",
    "databricks_external_location",
    "databricks_schema",
    "databricks_storage_credential",
  ]);
});

test("a changed naming input (the prefix) is a replacement, reported with the old and new name", () => {
  const env = { ...testEnv("sandbox"), prefix: "contoso-members" };
  const stackName = `members-${env.name}`;
  const before = synthAll({ environments: [env] }).stacks as Record<string, StackJson>;
  const after = synthAll({ environments: [{ ...env, prefix: "contoso-mbrs" }] }).stacks as Record<string, StackJson>;
  const problems = contractProblems({ [stackName]: stackContract(before[stackName]) }, after);
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        new RegExp(
          `^${stackName}: aws_s3_bucket\\.\\S+ changes bucket=contoso-members-${env.name}-landing to bucket=contoso-mbrs-${env.name}-landing: the provider replaces`,
        ),
      ),
    ]),
  );
});

describe("renaming a construct", () => {
  /** A stack with one landing bucket under construct id `id`; `moves` maps old addresses onto the new resources. */
  function bucketStack(id: string, moveFrom?: StackContract): StackJson {
    const stack = new TerraformStack(Testing.app(), "members-test");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    const landing = new LandingBucket(stack, id, { bucketName: "acme-members-test-landing", landingPrefix: "landing", retentionDays: 14 });
    if (moveFrom) {
      const byType = (type: string) => Object.keys(moveFrom).find((a) => a.startsWith(`${type}.`))!;
      landing.bucket.moveFromId(byType("aws_s3_bucket"));
      landing.key.moveFromId(byType("aws_kms_key"));
      landing.keyAlias.moveFromId(byType("aws_kms_alias"));
    }
    return JSON.parse(Testing.synth(stack));
  }
  type StackContract = AddressContract[string];

  const before = stackContract(bucketStack("storage"));
  const contract: AddressContract = { "members-test": before };

  test("without a move, the contract fails naming the resource that would be replaced and how to move it", () => {
    const problems = contractProblems(contract, { "members-test": bucketStack("landing-storage") });
    const bucket = Object.keys(before).find((a) => a.startsWith("aws_s3_bucket."))!;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          `members-test: ${bucket} (bucket=acme-members-test-landing) is no longer synthesized, so Terraform would destroy it and create aws_s3_bucket.landing-storage_bucket_`,
        ),
        expect.stringContaining(`resource.moveFromId("${bucket}")`),
      ]),
    );
  });

  test("with a move, the JSON carries Terraform moved blocks and the contract passes", () => {
    const renamed = bucketStack("landing-storage", before);
    const after = stackContract(renamed);
    expect(renamed.moved).toEqual(
      expect.arrayContaining(
        Object.keys(before).map((from) => ({ from, to: Object.keys(after).find((a) => a.split(".")[0] === from.split(".")[0]) })),
      ),
    );
    expect(renamed.moved).toHaveLength(3);
    expect(contractProblems(contract, { "members-test": renamed })).toEqual([]);
  });
});
