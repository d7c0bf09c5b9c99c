/**
 * The one way constructs refuse bad props: early, naming the construct, the prop, what it got and what it expected
 * ("LandingBucket storage: coolAfterDays: got 40, expected fewer than retentionDays (30)").
 */
import { Token } from "cdktf";

/** Throws `<construct>: <prop>: got <value>, expected <expected>`. */
export function invalidProp(construct: string, prop: string, got: unknown, expected: string): never {
  throw new Error(`${construct}: ${prop}: got ${JSON.stringify(got)}, expected ${expected}`);
}

/** Fails unless `ok(value)`. */
export function requireProp<T>(construct: string, prop: string, value: T, ok: (v: T) => boolean, expected: string): void {
  if (!ok(value)) invalidProp(construct, prop, value, expected);
}

/** Like requireProp for strings, but a Terraform token passes (it is only known at plan time). */
export function requireLiteral(construct: string, prop: string, value: string, ok: (v: string) => boolean, expected: string): void {
  if (!Token.isUnresolved(value)) requireProp(construct, prop, value, ok, expected);
}
