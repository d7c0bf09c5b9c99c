/**
 * `make -n bench` runs nothing. GNU make executes a recipe line that names $(MAKE) directly even in a dry run, and
 * make bench's recipe is one shell line that starts by removing its results folder: a dry run once removed the folder
 * of a bench running beside it (mk/bench.mk calls make through BENCH_SUBMAKE instead).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..");

test("a dry run of make bench leaves a running bench's results folder alone", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-dry-run-"));
  const part = join(dir, "parts", "1-synth.md");
  mkdirSync(join(dir, "parts"));
  writeFileSync(part, "a running bench's step\n");
  try {
    // PY_BIN=false: were the recipe run, its first Python step would fail at once instead of benchmarking.
    execFileSync("make", ["-n", "--no-print-directory", "bench", `BENCH_DIR=${dir}`, "PY_BIN=false"], { cwd: ROOT, stdio: "pipe" });
    expect(existsSync(part)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
