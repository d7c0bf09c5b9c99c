/**
 * Which stack the AWS rehearsal applies when `--stack` is not given (`make aws-rehearsal` without
 * AWS_REHEARSAL_STACK): the last AWS environment in production mode of the configuration (`prod` in the shipped
 * example), else the last AWS environment; none when no environment is on AWS. Derived, so a fork that renames or
 * removes environments needs no edit here.
 */
import type { AppConfigInput } from "../../stacks/config/schema";
import { validateConfig } from "../../stacks/config/validate";

export function rehearsedStackName(appConfig: AppConfigInput): string | undefined {
  const aws = validateConfig(appConfig).filter((env) => env.cloud === "aws");
  const production = aws.filter((env) => env.mode === "production");
  return (production.at(-1) ?? aws.at(-1))?.stackName;
}
