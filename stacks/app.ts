import { App } from "cdktf";
import { config as shippedConfig } from "./config/environments";
import type { AppConfigInput } from "./config/schema";
import { validateConfig } from "./config/validate";
import { MembersStack } from "./members-stack";

/**
 * Builds one stack per environment. Validation runs first, so a bad configuration fails before any construct exists.
 */
export function buildApp(config: AppConfigInput = shippedConfig, app: App = new App()): App {
  for (const environment of validateConfig(config)) {
    new MembersStack(app, environment.stackName, { environment });
  }
  return app;
}
