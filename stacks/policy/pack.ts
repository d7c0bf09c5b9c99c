/**
 * The policy pack as a cdktf Aspect, in the spirit of cdk-nag: add it to a stack and every synth checks the stack
 * against RULES. Errors become error annotations, which make `cdktf synth` (and `app.synth()`) fail with every
 * violation listed; warnings are printed and do not fail.
 *
 * Ordering: aspects run top-down in the order they were added, so when this aspect visits the stack, other aspects
 * (e.g. AzureDefaultTags) have not yet visited the stack's resources. The aspect therefore only registers a stack
 * validation; cdktf runs validations after every aspect has been invoked, and the validation checks the final
 * `stack.toTerraform()` output.
 *
 * Suppressions: `suppressPolicy(construct, ruleId, reason)` silences one rule for the resources under a construct,
 * with a reason that is printed (info annotation) on every synth, so an exception is reviewed like code. It is
 * recorded as construct metadata (as cdk-nag does), so it travels with the construct and shows in its tree.
 */
import { Annotations, type IAspect, TerraformResource, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import type { TerraformJson } from "../common/terraform-json";
import { type PolicyOptions, type PolicyRule, type Severity, severityOf } from "./rule";
import { RULES } from "./rules";

export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  /** Terraform address of the offending resource, `type.logical_id`. */
  readonly address: string;
  /** Construct path of the offending resource (or the stack for provider-level findings). */
  readonly constructPath: string;
  readonly message: string;
  /** Reason from suppressPolicy when the finding is suppressed. */
  readonly suppressedBecause?: string;
}

/** A one-line, greppable rendering: `[MEM-TLS-001] aws_s3_bucket.x: no bucket policy ... (rule: ...)`. */
export function formatFinding(finding: Finding): string {
  const rule = RULES.find((r) => r.id === finding.ruleId);
  return `[${finding.ruleId}] ${finding.address}: ${finding.message}${rule ? ` (rule: ${rule.description})` : ""}`;
}

/** Metadata type of a suppression entry: `{ ruleId, reason }` on the construct that suppresses. */
export const SUPPRESSION_METADATA = "members/policy-suppression";

/** Silences `ruleId` for every resource at or below `construct`; the reason is printed on every synth. */
export function suppressPolicy(construct: IConstruct, ruleId: string, reason: string): void {
  if (!RULES.some((rule) => rule.id === ruleId)) {
    throw new Error(`suppressPolicy: ruleId: got ${JSON.stringify(ruleId)}, expected one of ${RULES.map((r) => r.id).join(", ")}`);
  }
  if (reason.trim().length < 10) {
    throw new Error(`suppressPolicy: reason: got ${JSON.stringify(reason)}, expected a sentence saying why ${ruleId} does not apply`);
  }
  construct.node.addMetadata(SUPPRESSION_METADATA, { ruleId, reason });
}

function suppressionFor(construct: IConstruct | undefined, ruleId: string): string | undefined {
  for (let node: IConstruct | undefined = construct; node; node = node.node.scope) {
    const entry = node.node.metadata.find((m) => m.type === SUPPRESSION_METADATA && (m.data as { ruleId: string }).ruleId === ruleId);
    if (entry) return (entry.data as { reason: string }).reason;
  }
  return undefined;
}

export class PolicyPack implements IAspect {
  private readonly registered = new WeakSet<TerraformStack>();
  private readonly annotated = new Set<string>();

  constructor(
    private readonly options: PolicyOptions,
    private readonly rules: readonly PolicyRule[] = RULES,
  ) {}

  visit(node: IConstruct): void {
    const stack = TerraformStack.of(node);
    if (this.registered.has(stack)) return;
    this.registered.add(stack);
    stack.node.addValidation({
      validate: () => {
        this.annotate(stack, this.evaluate(stack));
        // Errors are reported as error annotations (all at once, with construct paths), not as validation messages.
        return [];
      },
    });
  }

  /**
   * Checks the stack as it synthesizes now. Call after aspects ran (`Testing.synth(stack)` or `app.synth()` do that).
   */
  evaluate(stack: TerraformStack): Finding[] {
    const tf = stack.toTerraform() as TerraformJson;
    const byPath = new Map<string, IConstruct>(stack.node.findAll().map((c) => [c.node.path, c]));
    const taggablePaths = new Set(
      stack.node
        .findAll()
        .filter((c): c is TerraformResource => c instanceof TerraformResource && "tagsInput" in c)
        .map((c) => c.node.path),
    );
    const pathOf = (address: string): string => {
      const [type, id] = address.split(".");
      const path = tf.resource?.[type]?.[id]?.["//"]?.metadata?.path;
      return typeof path === "string" ? path : stack.node.path;
    };
    const ctx = { ...this.options, taggablePaths };
    return this.rules.flatMap((rule) =>
      rule.check(tf, ctx).map((violation) => {
        const constructPath = pathOf(violation.address);
        const suppressedBecause = suppressionFor(byPath.get(constructPath), rule.id);
        return {
          ruleId: rule.id,
          severity: severityOf(rule.id),
          address: violation.address,
          constructPath,
          message: violation.message,
          ...(suppressedBecause === undefined ? {} : { suppressedBecause }),
        };
      }),
    );
  }

  private annotate(stack: TerraformStack, findings: readonly Finding[]): void {
    const byPath = new Map<string, IConstruct>(stack.node.findAll().map((c) => [c.node.path, c]));
    for (const finding of findings) {
      const key = `${finding.constructPath}|${finding.ruleId}|${finding.message}`;
      if (this.annotated.has(key)) continue; // validations may run more than once per stack (tests, then synth)
      this.annotated.add(key);
      const annotations = Annotations.of(byPath.get(finding.constructPath) ?? stack);
      if (finding.suppressedBecause !== undefined) {
        annotations.addInfo(`[${finding.ruleId}] suppressed: ${finding.suppressedBecause}`);
      } else if (finding.severity === "error") {
        annotations.addError(formatFinding(finding));
      } else {
        annotations.addWarning(formatFinding(finding));
      }
    }
  }
}

/** Errors that are not suppressed: what fails synth. */
export function blockingFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === "error" && f.suppressedBecause === undefined);
}
