/**
 * Writes the address contract of the shipped stacks to __tests__/protected-addresses.json (`make address-contract`).
 * Run it only after a deliberate, reviewed change (a rename with a move, a new stateful resource): the diff of that
 * file is what a reviewer approves.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { buildApp } from "../../stacks/app";
import { type AddressContract, stackContract } from "./contract";

export const CONTRACT_FILE = path.resolve(__dirname, "..", "..", "__tests__", "protected-addresses.json");

const app = buildApp(undefined, Testing.app());
const contract: AddressContract = {};
for (const stack of app.node.children) contract[stack.node.id] = stackContract(JSON.parse(Testing.synth(stack as never)));
writeFileSync(CONTRACT_FILE, `${JSON.stringify(contract, null, 2)}\n`);
console.log(
  `address contract: ${Object.values(contract).reduce((n, c) => n + Object.keys(c).length, 0)} stateful resources in ${Object.keys(contract).length} stacks -> ${path.relative(process.cwd(), CONTRACT_FILE)}`,
);
