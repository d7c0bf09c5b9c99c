import { buildApp, runByCdktfCli, synthWarnings } from "./stacks/app";
import { ConfigError } from "./stacks/config/validate";

try {
  const app = buildApp();
  app.synth();
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
