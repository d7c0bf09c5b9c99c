/**
 * Draws a synthesized stack as a Mermaid flowchart that fits one screen (SCREEN; a jest test checks the rendered SVG):
 * - one box (subgraph) per construct path, two levels deep: `landing/storage`, `landing/unity-catalog`,
 *   `pipeline/code`, `pipeline/catalog`, `pipeline/extract-job`, ...;
 * - inside a box, repeated resources are one node with a count (`uploaded code ×16`: the notebooks and workspace
 *   files; `databricks_grants ×2`), and a node lists after `+` what belongs to it: resources that configure it (the
 *   bucket's versioning, encryption, ...), its grants or permissions, data sources only it reads, waits for it;
 * - boxes that repeat per environment (a bootstrap stack's roles and state store) are drawn once, titled with every
 *   environment, so more environments do not make the picture taller;
 * - arrows: inside a box, node to node (a -> b: b references a; dotted: depends_on only); between boxes, one arrow per
 *   pair of constructs, so ELK lays each construct out as a block and routes the arrows around the boxes.
 *
 * Generated from the code, so it cannot drift: a jest test fails when the committed diagram differs from what the
 * current code generates (`make diagrams` regenerates it and renders the SVGs).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TerraformDataSource, TerraformResource, type TerraformStack, Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import type { TerraformJson } from "../stacks/common/terraform-json";
import { config as shipped } from "../stacks/config/environments";
import type { AppConfigInput } from "../stacks/config/schema";

/** The largest rendered size (CSS pixels at scale 1) a generated stack diagram may have: one full-HD screen. */
export const SCREEN = { width: 1920, height: 1080 } as const;

interface Resource {
  readonly address: string; // "aws_s3_bucket.landing_storage_bucket_2664DE92" or "data.aws_caller_identity.x"
  readonly type: string; // "aws_s3_bucket" or "data aws_caller_identity"
  readonly group: string; // construct path of the owning construct, at most two levels: "landing/storage"
  readonly name: string; // construct path below the group: "bucket", "landing/location"
  readonly references: string[]; // addresses this one's arguments reference
  readonly dependsOn: string[]; // addresses in its depends_on
}

/**
 * Resources that only configure another resource of the same construct are drawn inside that resource's node
 * (`aws_s3_bucket` with `+ encryption, lifecycle, ...`): pattern of the configuring type -> type of the configured one.
 */
const CONFIGURES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^aws_s3_bucket_/, "aws_s3_bucket"],
  [/^aws_kms_alias$/, "aws_kms_key"],
  [/^aws_iam_role_policy(_attachment)?$/, "aws_iam_role"],
  [/^databricks_secret$/, "databricks_secret_scope"],
  // The schema's artifacts volume and the file in it: drawn inside the schema (a column of their own would widen the picture).
  [/^databricks_(volume|file)$/, "databricks_schema"],
  [/^azurerm_storage_(container|management_policy)$/, "azurerm_storage_account"],
  // The health picture as one box: the alerts on the same queries, their e-mail destination and the SQL warehouse drawn
  // inside the dashboard (boxes of their own make the production pictures taller than one screen; pipeline-health.ts).
  [/^databricks_(alert_v2|notification_destination|sql_endpoint)$/, "databricks_dashboard"],
];

/** Grants and permissions: drawn inside the node of what they are on when a construct has one of the type. */
const GRANT = /^(databricks_(grants|permissions|secret_acl)|azurerm_role_assignment)$/;

/**
 * Resources of one construct drawn as one node when the construct has more than one of them. Anything else repeated
 * within a construct (two external locations) is one node per type.
 */
const FAMILIES: ReadonlyArray<{ readonly key: string; readonly title: string; readonly member: (type: string) => boolean }> = [
  { key: "code", title: "uploaded code", member: (t) => t === "databricks_notebook" || t === "databricks_workspace_file" },
  { key: "access", title: "grants + permissions", member: (t) => GRANT.test(t) },
  { key: "data", title: "data sources", member: (t) => t.startsWith("data ") },
];

/**
 * Resources other resources only sit in: drawn, but without an arrow to each resource in them (every Azure resource
 * names its resource group; those arrows would add a column to the picture and say nothing else).
 */
const CONTAINERS: ReadonlySet<string> = new Set(["azurerm_resource_group"]);

/**
 * Resource types left out of the picture: terraform_data is the placeholder guard (stacks/config/placeholder-guard.ts),
 * a plan-time check on the configuration, not infrastructure.
 */
const LEFT_OUT: ReadonlySet<string> = new Set(["terraform_data"]);

/** Names listed in a node up to this many; beyond it the node shows counts per type only. */
const MAX_NAMES = 6;
/** Characters per label line before names wrap onto the next one. */
const LINE = 34;

const REFERENCE = /\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)/g;

/** Terraform address -> construct path (`landing/storage/bucket`), read from the construct tree. */
export function constructPaths(stack: TerraformStack): Map<string, string> {
  const paths = new Map<string, string>();
  for (const construct of stack.node.findAll()) {
    if (construct instanceof TerraformResource || construct instanceof TerraformDataSource) {
      const prefix = construct instanceof TerraformDataSource ? "data." : "";
      const address = `${prefix}${construct.terraformResourceType}.${stack.getLogicalId(construct)}`;
      paths.set(address, construct.node.path.split("/").slice(1).join("/"));
    }
  }
  return paths;
}

function resourcesOf(json: TerraformJson, paths: Map<string, string>): Resource[] {
  const found: Array<Omit<Resource, "references" | "dependsOn"> & { props: Record<string, unknown> }> = [];
  for (const [kind, block] of [
    ["resource", json.resource],
    ["data", json.data],
  ] as const) {
    for (const [type, byId] of Object.entries(block ?? {})) {
      if (kind === "resource" && LEFT_OUT.has(type)) continue;
      for (const [id, props] of Object.entries(byId)) {
        const address = kind === "data" ? `data.${type}.${id}` : `${type}.${id}`;
        const segments = (paths.get(address) ?? id).split("/");
        // The pipeline's jobs share one box (`pipeline/jobs`): they differ only in notebook and trigger; so do its
        // secret scopes (`pipeline/secrets`: the extract's and the development generator's).
        const shared = /^[a-z-]+-(job|secrets)$/.exec(segments[1] ?? "");
        const depth = shared ? 1 : Math.min(2, segments.length - 1);
        const group =
          depth === 1 && shared && segments.length > 2
            ? `${segments[0]}/${shared[1] === "job" ? "jobs" : "secrets"}`
            : segments.slice(0, depth).join("/") || "stack";
        found.push({ address, type: kind === "data" ? `data ${type}` : type, group, name: segments.slice(depth).join("/"), props });
      }
    }
  }
  const known = new Set(found.map((r) => r.address));
  const linked = found
    .map(({ props, ...resource }) => {
      const { depends_on: dependsOn, ...rest } = props;
      // A cluster policy's definition only pins values the jobs' clusters carry (and reference) too: no arrow of its own.
      const scanned = resource.type === "databricks_cluster_policy" ? { ...rest, definition: undefined } : rest;
      const references = [...JSON.stringify(scanned).matchAll(REFERENCE)].map((m) => `${m[1] ?? ""}${m[2]}.${m[3]}`);
      return {
        ...resource,
        references: [...new Set(references)].filter((a) => known.has(a) && a !== resource.address),
        dependsOn: ((dependsOn as string[] | undefined) ?? []).filter((a) => known.has(a)),
      };
    })
    .sort((a, b) => a.address.localeCompare(b.address));
  // A data source nothing drawn reads only feeds a plan-time check (a terraform_data precondition): not drawn.
  const read = new Set(linked.flatMap((r) => [...r.references, ...r.dependsOn]));
  return linked.filter((r) => !r.type.startsWith("data ") || read.has(r.address));
}

const sanitize = (text: string) => text.replace(/[^A-Za-z0-9_]/g, "_");

interface DiagramNode {
  readonly id: string;
  readonly group: string;
  readonly members: Resource[]; // of one type, or of one family
  readonly satellites: Resource[]; // drawn inside: what configures a member, data only it reads, a wait only for it
  title?: string; // set for a family of several types
}

/**
 * Groups the resources of each construct into the nodes drawn; returns the nodes and address -> node.
 *
 * Drawn inside another node of its construct (listed after `+`): a resource configuring it (CONFIGURES); the
 * construct's grants of a type when all of them are on that node (one grant, or the role assignments of an access
 * connector's identity); a data source read only by that node; a wait
 * (time_sleep) for that node alone, or else one only that node waits for. The rest of a construct is one node per
 * family (FAMILIES, when the construct has several members) or per type, with a count.
 */
function collapse(resources: Resource[]): { nodes: DiagramNode[]; nodeOf: Map<string, DiagramNode> } {
  const byKey = new Map<string, DiagramNode>();
  const nodeOf = new Map<string, DiagramNode>();
  const add = (r: Resource, key: string, id: string, title?: string) => {
    const node = byKey.get(key) ?? { id: sanitize(id), group: r.group, members: [], satellites: [], title };
    byKey.set(key, node);
    node.members.push(r);
    nodeOf.set(r.address, node);
  };
  const sameGroup = (r: Resource) => resources.filter((o) => o.group === r.group);
  const configures = (r: Resource) =>
    CONFIGURES.find(([pattern, target]) => pattern.test(r.type) && sameGroup(r).some((o) => o.type === target))?.[1];
  const isGrant = (r: Resource) => GRANT.test(r.type);
  const attachable = (r: Resource) => isGrant(r) || r.type.startsWith("data ") || r.type === "time_sleep";
  const familyOf = (r: Resource) => FAMILIES.find((f) => f.member(r.type));
  const grouped = (r: Resource, among: Resource[]) => {
    const family = familyOf(r);
    return family && among.filter((o) => o.group === r.group && familyOf(o) === family).length > 1 ? family : undefined;
  };
  const addByKind = (r: Resource, among: Resource[]) => {
    const family = grouped(r, among);
    if (family) add(r, `${r.group}|${family.key}`, `${family.key}_${r.group}`, family.title);
    else add(r, `${r.group}|${r.type}`, `${r.type}_${r.group}`);
  };

  // 1. Each construct's main resources, by family or type.
  const main = resources.filter((r) => !configures(r) && !attachable(r));
  for (const r of main) addByKind(r, main);
  // 2. What configures one of them.
  for (const r of resources) {
    const target = configures(r);
    const node = target && nodeOf.get(sameGroup(r).find((o) => o.type === target)?.address ?? "");
    if (!node) continue;
    node.satellites.push(r);
    nodeOf.set(r.address, node);
  }
  // 3. Grants, data sources and waits that belong to one node (repeated: data read by data, a wait for a grant).
  const suppliers = (r: Resource) => [...r.references, ...r.dependsOn];
  const consumers = (r: Resource) =>
    resources.filter((o) => o.references.includes(r.address) || o.dependsOn.includes(r.address)).map((o) => o.address);
  const onlyNode = (addresses: string[], r: Resource, sameGroupOnly = false) => {
    const nodes = new Set(addresses.map((a) => nodeOf.get(a) ?? a).filter((n) => !sameGroupOnly || typeof n === "string" || n.group === r.group));
    const [only] = nodes;
    return nodes.size === 1 && typeof only !== "string" && only.group === r.group ? only : undefined;
  };
  // The one node of its construct every grant of r's type there is on, if there is one.
  const grantNode = (r: Resource) => {
    const nodes = new Set(
      sameGroup(r)
        .filter((o) => o.type === r.type)
        .map((o) => onlyNode(suppliers(o), o, true)),
    );
    const [only] = nodes;
    return nodes.size === 1 ? only : undefined;
  };
  const pending = resources.filter(attachable);
  for (const waitsByWaiter of [false, true]) {
    for (let changed = true; changed; ) {
      changed = false;
      for (const r of pending.filter((p) => !nodeOf.has(p.address))) {
        const node = isGrant(r)
          ? grantNode(r)
          : r.type === "time_sleep"
            ? onlyNode(waitsByWaiter ? consumers(r) : suppliers(r), r)
            : onlyNode(consumers(r), r);
        if (node) {
          node.satellites.push(r);
          nodeOf.set(r.address, node);
          changed = true;
        }
      }
    }
  }
  // 4. The rest, by family or type.
  const rest = pending.filter((r) => !nodeOf.has(r.address));
  for (const r of rest) addByKind(r, rest);
  return { nodes: [...byKey.values()].sort((a, b) => a.id.localeCompare(b.id)), nodeOf };
}

/**
 * Joins items with ", " into lines of at most LINE characters (an item longer than that gets a line of its own); the
 * first line starts with `head` when given.
 */
function wrap(items: string[], head = ""): string[] {
  const lines: string[] = [];
  let line = head;
  for (const item of items) {
    const joined = line === head ? `${head} ${item}`.trim() : `${line}, ${item}`;
    if (joined.length <= LINE || line === "") line = joined;
    else {
      lines.push(line === head ? line : `${line},`);
      line = item;
    }
  }
  return line ? [...lines, line] : lines;
}

const count = (n: number) => (n > 1 ? ` ×${n}` : "");

/** The node's lines: what it is (type or family, ×count) with its construct names, then `+ ` what is drawn inside it. */
function label(node: DiagramNode): string {
  const names = node.members.map((m) => m.name).sort();
  const types = [...new Set(node.members.map((m) => m.type))].sort();
  const ofType = (list: Resource[], type: string) => list.filter((m) => m.type === type);
  let lines: string[];
  if (!node.title || types.length === 1) {
    lines = wrap(names.length <= MAX_NAMES ? names : [], `${types[0]}${count(names.length)}:`);
  } else {
    lines = [`${node.title}${count(node.members.length)}:`, ...types.map((t) => `${t}${count(ofType(node.members, t).length)}`)];
  }
  lines = lines.map((line) => line.replace(/:$/, ""));
  const satellites = [...new Set(node.satellites.map((m) => m.type))].flatMap((type) => {
    const ofThis = ofType(node.satellites, type);
    return ofThis.length > 1 ? [`${type}${count(ofThis.length)}`] : [ofThis[0].name];
  });
  if (node.members.every((m) => CONTAINERS.has(m.type))) lines.push("(arrows to its contents not drawn)");
  return [...lines, ...(satellites.length ? wrap(satellites.sort(), "+") : [])].join("<br/>");
}

/**
 * The arrows drawn. Inside a construct, between nodes: `a --> b` when b references a, `a -.-> b` when b only
 * depends_on a. Between constructs, one arrow per pair of constructs (solid when any reference, else dotted), so the
 * constructs can be laid out as blocks.
 */
function edgesOf(resources: Resource[], nodeOf: Map<string, DiagramNode>, groupId: (group: string) => string): string[] {
  const solid = new Set<string>();
  const dotted = new Set<string>();
  for (const resource of resources) {
    const to = nodeOf.get(resource.address);
    for (const [targets, edges, arrow] of [
      [resource.references, solid, "-->"],
      [resource.dependsOn, dotted, "-.->"],
    ] as const) {
      for (const address of targets) {
        const from = nodeOf.get(address);
        if (!from || !to || from === to || from.members.every((m) => CONTAINERS.has(m.type))) continue;
        if (from.group === to.group) edges.add(`${from.id} ${arrow} ${to.id}`);
        else edges.add(`${groupId(from.group)} ${arrow} ${groupId(to.group)}`);
      }
    }
  }
  const drawn = [...solid];
  for (const edge of dotted) if (!solid.has(edge.replace(" -.-> ", " --> "))) drawn.push(edge);
  return drawn.sort();
}

/** Mermaid source for one synthesized stack. */
export function resourceDiagram(stackName: string, json: TerraformJson, paths: Map<string, string>): string {
  const resources = resourcesOf(json, paths);
  const { nodes, nodeOf } = collapse(resources);
  const groupId = (group: string) => sanitize(`g_${group}`);
  const lines = [
    "---",
    "config:",
    "  layout: elk",
    "---",
    `%% GENERATED by tools/resource-diagram.ts from the synthesized stack ${stackName}; do not edit (make diagrams).`,
    `%% ${resources.length} resources and data sources in ${nodes.length} nodes, one box per construct. Repeated resources of a construct`,
    "%% are one node (×count); `+` lists what is drawn inside a node: resources configuring it, data sources only it reads,",
    "%% waits for it, its grants. Arrow a -> b: b references a (dotted: depends_on only); between constructs one arrow per pair.",
    "flowchart LR",
  ];
  const { drawn, title, renamed } = mergeRepeatedGroups(nodes, groupId);
  for (const group of drawn) {
    lines.push(`  subgraph ${groupId(group)}["${title.get(group) ?? group}"]`, "    direction TB");
    for (const node of nodes.filter((n) => n.group === group)) lines.push(`    ${node.id}["${label(node)}"]`);
    lines.push("  end");
  }
  const edges = edgesOf(resources, nodeOf, groupId)
    .map((edge) => edge.split(" ").map((part) => renamed.get(part) ?? part))
    .filter(([from, , to]) => from !== to)
    .map((parts) => parts.join(" "));
  for (const edge of [...new Set(edges)].sort()) lines.push(`  ${edge}`);
  return `${lines.join("\n")}\n`;
}

/**
 * Boxes that differ only in the first segment of their construct path and hold the same nodes (a bootstrap stack's
 * roles and state store, one of each per environment) are drawn once, titled with every segment (`each of dev, prod,
 * staging / state`): a configuration with more environments keeps a picture of one screen. Returns the groups to
 * draw, their titles, and the node and box ids of the groups drawn by another (-> its ids), for the arrows.
 */
function mergeRepeatedGroups(
  nodes: DiagramNode[],
  groupId: (group: string) => string,
): { drawn: string[]; title: Map<string, string>; renamed: Map<string, string> } {
  const groups = [...new Set(nodes.map((n) => n.group))].sort();
  const nodesOf = (group: string) => nodes.filter((n) => n.group === group);
  const classes = new Map<string, string[]>();
  for (const group of groups) {
    const [head, ...rest] = group.split("/");
    if (head === "stack") continue;
    const shape = JSON.stringify([rest.join("/"), nodesOf(group).map(label)]);
    classes.set(shape, [...(classes.get(shape) ?? []), group]);
  }
  const title = new Map<string, string>();
  const renamed = new Map<string, string>();
  for (const members of classes.values()) {
    if (members.length < 2) continue;
    const [first, ...others] = members;
    const suffix = first.split("/").slice(1).join("/");
    title.set(first, `each of ${members.map((g) => g.split("/")[0]).join(", ")}${suffix ? ` / ${suffix}` : ""}`);
    for (const other of others) {
      renamed.set(groupId(other), groupId(first));
      for (const [i, node] of nodesOf(other).entries()) renamed.set(node.id, nodesOf(first)[i].id);
    }
  }
  return { drawn: groups.filter((g) => !renamed.has(groupId(g))), title, renamed };
}

/** Synthesizes the configuration and returns the diagram of every stack it configures, by stack name. */
export function generateResourceDiagrams(appConfig: AppConfigInput = shipped): Record<string, string> {
  const app = buildApp(appConfig, Testing.app());
  const diagrams: Record<string, string> = {};
  for (const stack of app.node.children as TerraformStack[]) {
    const name = stack.node.id;
    diagrams[name] = resourceDiagram(name, JSON.parse(Testing.synth(stack)), constructPaths(stack));
  }
  return diagrams;
}

if (require.main === module) {
  const outDir = join(__dirname, "..", "diagrams", "generated");
  mkdirSync(outDir, { recursive: true });
  const diagrams = generateResourceDiagrams();
  for (const [name, source] of Object.entries(diagrams)) {
    writeFileSync(join(outDir, `${name}.mmd`), source);
    console.log(`wrote diagrams/generated/${name}.mmd`);
  }
  // A stack no longer configured keeps no picture.
  for (const file of readdirSync(outDir).filter((f) => /\.(mmd|svg)$/.test(f) && !(f.replace(/\.(mmd|svg)$/, "") in diagrams))) {
    rmSync(join(outDir, file));
    console.log(`removed diagrams/generated/${file}: no such stack configured`);
  }
}
