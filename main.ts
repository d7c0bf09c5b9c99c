import { buildApp, pruneStaleStacks, runByCdktfCli, synthWarnings } from "./stacks/app";
import { writeProviderLocks } from "./stacks/common/provider-locks";
import { ConfigError } from "./stacks/config/validate";

try {
  const app = buildApp();
  app.synth();
  for (const stack of pruneStaleStacks(app.outdir)) process.stderr.write(`removed ${app.outdir}/stacks/${stack}: no longer configured\n`);
  // Each stack's committed provider lock file (stacks/provider-locks), so terraform init checks the providers' hashes.
  for (const { stack, set } of writeProviderLocks(app.outdir).filter((l) => !l.lockFile)) {
    process.stderr.write(`WARN [${stack}]: no provider lock file stacks/provider-locks/${set}.terraform.lock.hcl (make provider-locks)\n`);
  }
  // Run directly (`make synth`), nobody else prints the stacks' warnings (placeholder values, for one); the cdktf CLI does.
  if (!runByCdktfCli()) {
    for (const warning of synthWarnings(app.outdir)) process.stderr.write(`${warning}\n`);
  }
} catch (error) {
  if (error instanceof ConfigError) {
    // A readable list of every problem beats a stack trace pointing into zod.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
