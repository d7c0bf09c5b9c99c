/**
 * The committed diagrams: diagrams/generated/ holds a current picture of every stack the shipped configuration
 * synthesizes (`make diagrams`; a fork regenerates them, and the fork lane skips this suite), and every SVG is rendered
 * from its current source. What a stack picture shows: resource-diagram.test.ts, on the test configuration.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { config as shipped } from "../stacks/config/environments";
import { validateConfig } from "../stacks/config/validate";
import { generateResourceDiagrams, SCREEN } from "../tools/resource-diagram";

const DIAGRAMS = join(__dirname, "..", "diagrams");

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "renderer") return [];
    if (statSync(path).isDirectory()) return filesUnder(path, extension);
    return entry.endsWith(extension) ? [path] : [];
  });
}

const mermaidSources = (dir: string) => filesUnder(dir, ".mmd");

/** Every configured stack is drawn: the environments' stacks and, with github.repository, the bootstrap stacks. */
const GENERATED = generateResourceDiagrams();
const DIAGRAM_STACKS = Object.keys(GENERATED);
const ENVIRONMENT_STACKS = validateConfig(shipped).map((env) => env.stackName);

/** The size an SVG opens at: its width/height attributes, and its viewBox. */
function svgSize(svg: string): { width: number; height: number; viewBox: number[] } {
  const root = /^<svg [^>]*>/.exec(svg)?.[0] ?? "";
  const viewBox = (/viewBox="([^"]+)"/.exec(root)?.[1] ?? "").split(/\s+/).map(Number);
  return { width: Number(/ width="([\d.]+)"/.exec(root)?.[1]), height: Number(/ height="([\d.]+)"/.exec(root)?.[1]), viewBox };
}

describe("generated stack diagrams", () => {
  const generated = GENERATED;

  test("every configured stack has a picture, and no other stack has one (run `make diagrams`)", () => {
    const drawn = readdirSync(join(DIAGRAMS, "generated")).filter((f) => f.endsWith(".mmd"));
    expect(drawn.sort()).toEqual(DIAGRAM_STACKS.map((s) => `${s}.mmd`).sort());
    expect(DIAGRAM_STACKS).toEqual(expect.arrayContaining(ENVIRONMENT_STACKS));
  });

  test.each([...DIAGRAM_STACKS])("diagrams/generated/%s.mmd matches the current code (run `make diagrams`)", (stack) => {
    const committed = readFileSync(join(DIAGRAMS, "generated", `${stack}.mmd`), "utf8");
    expect(committed).toBe(generated[stack]);
  });
});

describe("rendered SVGs", () => {
  const sources = mermaidSources(DIAGRAMS);
  const svgs = filesUnder(DIAGRAMS, ".svg").map((s) => relative(DIAGRAMS, s));

  test("cover the architecture, the daily run, the security boundaries and the generated stacks", () => {
    const names = sources.map((s) => relative(DIAGRAMS, s)).sort();
    expect(names).toEqual(
      expect.arrayContaining(["architecture.mmd", "daily-run.mmd", "security.mmd", ...DIAGRAM_STACKS.map((s) => `generated/${s}.mmd`)]),
    );
  });

  test.each(mermaidSources(DIAGRAMS).map((s) => relative(DIAGRAMS, s)))("%s has a current SVG (run `make diagrams`)", (name) => {
    const source = readFileSync(join(DIAGRAMS, name));
    const svg = readFileSync(join(DIAGRAMS, name.replace(/\.mmd$/, ".svg")), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    const stamp = /<!-- source-sha256: ([0-9a-f]{64}) rendered-by: mermaid-cli \S+ -->\s*$/.exec(svg);
    expect(stamp?.[1]).toBe(createHash("sha256").update(source).digest("hex"));
  });

  // Viewers without an HTML engine (IDE previews, rsvg, Inkscape, slide and wiki imports) draw foreignObject labels as
  // empty boxes; diagrams/render.sh renders labels as SVG text.
  test.each(svgs)("%s keeps its text as SVG text, no HTML foreignObject", (name) => {
    const svg = readFileSync(join(DIAGRAMS, name), "utf8");
    expect(svg).not.toMatch(/foreignObject/i);
    expect(svg).toMatch(/<text[\s>]/);
  });

  test.each(svgs)("%s opens at its natural size (width and height in pixels, equal to the viewBox)", (name) => {
    const { width, height, viewBox } = svgSize(readFileSync(join(DIAGRAMS, name), "utf8"));
    expect(viewBox).toHaveLength(4);
    expect(width).toBe(Math.ceil(viewBox[2]));
    expect(height).toBe(Math.ceil(viewBox[3]));
  });

  test.each([...DIAGRAM_STACKS])(`generated/%s.svg fits one ${SCREEN.width}×${SCREEN.height} screen at scale 1`, (stack) => {
    const { width, height, viewBox } = svgSize(readFileSync(join(DIAGRAMS, "generated", `${stack}.svg`), "utf8"));
    expect(width).toBeLessThanOrEqual(SCREEN.width);
    expect(height).toBeLessThanOrEqual(SCREEN.height);
    expect(viewBox[2]).toBeLessThanOrEqual(SCREEN.width);
    expect(viewBox[3]).toBeLessThanOrEqual(SCREEN.height);
  });
});
