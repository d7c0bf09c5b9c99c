/**
 * GitHub Actions' OIDC token, as the CI identities trust it: issuer, audiences and the subject of a job that runs in a
 * GitHub environment. The workflows plan in `<env>-plan` and apply in `<env>` (.github/workflows/stack.yml); each
 * identity trusts exactly one of those subjects, never a wildcard.
 */

/** Issuer (`iss`) of every GitHub Actions OIDC token. */
export const GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com";
/** Host of the issuer: the prefix of the claim keys in AWS trust policy conditions. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** Audience aws-actions/configure-aws-credentials requests (its default). */
export const AWS_STS_AUDIENCE = "sts.amazonaws.com";
/** Audience azure/login requests and Microsoft Entra ID expects of a federated credential. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/** The two GitHub environments of one configuration environment. */
export interface GithubEnvironments {
  /** Read-only plans (`terraform plan -lock=false`): `<env>-plan`. */
  readonly plan: string;
  /** Applies of a reviewed plan, from refs/heads/main only: `<env>`. */
  readonly deploy: string;
}

export function githubEnvironments(environment: string): GithubEnvironments {
  return { plan: `${environment}-plan`, deploy: environment };
}

/** The `sub` claim of a job in GitHub environment `githubEnvironment` of `repository` (owner/name). */
export function githubSubject(repository: string, githubEnvironment: string): string {
  if (!/^[^/\s*?]+\/[^/\s*?]+$/.test(repository)) {
    throw new Error(`githubSubject: got repository ${JSON.stringify(repository)}, expected owner/name without wildcards`);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(githubEnvironment)) {
    throw new Error(`githubSubject: got environment ${JSON.stringify(githubEnvironment)}, expected a name without wildcards`);
  }
  return `repo:${repository}:environment:${githubEnvironment}`;
}

/** Names of one environment's CI identities, under its resource prefix `<prefix>-<env>` (resourceNames().base). */
export function ciIdentityNames(base: string) {
  return {
    /** Role (AWS) or user-assigned identity (Azure) of `<env>-plan`. */
    plan: `${base}-ci-plan`,
    /** Role (AWS) or user-assigned identity (Azure) of `<env>`. */
    deploy: `${base}-ci-deploy`,
    /** The permissions boundary of both AWS roles. */
    boundary: `${base}-ci-boundary`,
    /** What the deploy role may never change: every CI identity of the environment and its boundary. */
    reserved: `${base}-ci-*`,
  } as const;
}
