/** Synthesized Terraform JSON of one stack (what `cdktf.out/stacks/<stack>/cdk.tf.json` holds), as rules and tools read it. */
export interface TerraformJson {
  terraform?: Record<string, any>;
  provider?: Record<string, Record<string, any>[]>;
  resource?: Record<string, Record<string, Record<string, any>>>;
  data?: Record<string, Record<string, Record<string, any>>>;
  variable?: Record<string, Record<string, any>>;
  output?: Record<string, Record<string, any>>;
  moved?: { from: string; to: string }[];
}
