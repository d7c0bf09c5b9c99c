import { type IAspect, TerraformResource } from "cdktf";
import type { IConstruct } from "constructs";

/** Tags every resource of this stack carries: the environment's own plus the ones that identify the deployment. */
export function standardTags(environment: {
  readonly name: string;
  readonly stackName: string;
  readonly tags: Record<string, string>;
}): Record<string, string> {
  return {
    ...environment.tags,
    environment: environment.name,
    "managed-by": "cdktf",
    stack: environment.stackName,
  };
}

interface Taggable {
  tags: Record<string, string>;
  readonly tagsInput?: Record<string, string>;
}

function isTaggableAzureResource(node: IConstruct): node is TerraformResource & Taggable {
  return node instanceof TerraformResource && node.terraformResourceType.startsWith("azurerm_") && "tagsInput" in node;
}

/**
 * azurerm has no provider-level default tags (AWS has `default_tags`), so this aspect adds the standard tags to every
 * taggable azurerm resource at synth time; tags a construct sets itself win.
 */
export class AzureDefaultTags implements IAspect {
  constructor(private readonly tags: Record<string, string>) {}

  visit(node: IConstruct): void {
    if (isTaggableAzureResource(node)) {
      node.tags = { ...this.tags, ...(node.tagsInput ?? {}) };
    }
  }
}
