/**
 * Writes the address contract of the configured stacks to __tests__/protected-addresses.json (`make address-contract`),
 * for the configuration's repository (`github.repository`). Run it after the first deploy of an environment (a fork:
 * after its first deploy, replacing the example's) and after a deliberate, reviewed change (a rename with a move, a
 * new stateful resource): the diff of that file is what a reviewer approves.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { buildApp } from "../../stacks/app";
import { config } from "../../stacks/config/environments";
import { type AddressContract, type ContractFile, stackContract } from "./contract";

export const CONTRACT_FILE = path.resolve(__dirname, "..", "..", "__tests__", "protected-addresses.json");

const app = buildApp(config, Testing.app());
const contract: AddressContract = {};
for (const stack of app.node.children) contract[stack.node.id] = stackContract(JSON.parse(Testing.synth(stack as never)));
const file: ContractFile = { repository: config.github?.repository ?? "(no github.repository configured)", stacks: contract };
writeFileSync(CONTRACT_FILE, `${JSON.stringify(file, null, 2)}\n`);
console.log(
  `address contract: ${Object.values(contract).reduce((n, c) => n + Object.keys(c).length, 0)} stateful resources in ${Object.keys(contract).length} stacks for ${file.repository} -> ${path.relative(process.cwd(), CONTRACT_FILE)}`,
);
