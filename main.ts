import { buildApp } from "./stacks/app";
import { ConfigError } from "./stacks/config/validate";

try {
  buildApp().synth();
} catch (error) {
  if (error instanceof ConfigError) {
    // A readable list of every problem beats a stack trace pointing into zod.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
