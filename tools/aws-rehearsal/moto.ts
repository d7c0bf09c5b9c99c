/**
 * A moto server (`python -m moto.server`) on 127.0.0.1, on a port the OS picks, in its own process group so that
 * stopping it stops everything it started; and the few S3 calls the rehearsal makes itself (state bucket, planted
 * lock), as plain HTTP. moto does not verify signatures but treats a request without an Authorization header as
 * anonymous (object ACLs apply), so the requests carry an unsigned SigV4-shaped header.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";

export interface Moto {
  readonly endpoint: string;
  readonly pid: number;
  /** Stops the server's process group (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

const RUNNING_ON = /Running on http:\/\/127\.0\.0\.1:(\d+)/;

/** Every moto started and not yet stopped, for the exit and signal handlers of the driver. */
const live = new Set<ChildProcess>();

export function killAllSync(): void {
  for (const child of live) {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

export function startMoto(python: string, logFile: string, timeoutMs = 30_000): Promise<Moto> {
  const log = createWriteStream(logFile);
  const child = spawn(python, ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], {
    detached: true, // own process group: stop() signals the group
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  live.add(child);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
      live.delete(child);
      return;
    }
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), s);
      } catch {
        // the group is gone already
      }
    };
    signal("SIGTERM");
    const timer = new Promise<"timeout">((done) => setTimeout(() => done("timeout"), 5000).unref());
    if ((await Promise.race([exited, timer])) === "timeout") {
      signal("SIGKILL");
      await exited;
    }
    live.delete(child);
    log.end();
  };
  return new Promise((resolve, reject) => {
    let seen = "";
    let listening = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`moto did not start within ${timeoutMs / 1000}s; see ${logFile}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (listening) return;
      seen += chunk.toString("utf8");
      const port = RUNNING_ON.exec(seen)?.[1];
      if (port) {
        listening = true;
        clearTimeout(timer);
        resolve({ endpoint: `http://127.0.0.1:${port}`, pid: child.pid as number, stop });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`cannot start moto with ${python}: ${e.message}`));
    });
    child.once("exit", (code, sig) => {
      if (listening) return;
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`moto exited before listening (${sig ?? `exit ${code}`}); see ${logFile}`));
    });
  });
}

/** An S3 REST call to moto, path style. Returns the HTTP status and body. */
export async function s3(
  endpoint: string,
  region: string,
  method: "PUT" | "GET" | "HEAD" | "DELETE",
  bucket: string,
  key = "",
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const path = [bucket, ...(key ? key.split("/") : [])].map(encodeURIComponent).join("/");
  const response = await fetch(`${endpoint}/${path}`, {
    method,
    body,
    headers: {
      Authorization: `AWS4-HMAC-SHA256 Credential=aws-rehearsal/20260101/${region}/s3/aws4_request, SignedHeaders=host, Signature=0`,
      ...headers,
    },
  });
  return { status: response.status, body: await response.text() };
}

/** Creates a bucket in moto (in `region`, as the S3 backend expects it). */
export async function createBucket(endpoint: string, region: string, bucket: string): Promise<void> {
  const body =
    region === "us-east-1"
      ? undefined
      : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;
  const r = await s3(endpoint, region, "PUT", bucket, "", body);
  if (r.status !== 200) throw new Error(`creating the state bucket ${bucket} in moto: HTTP ${r.status} ${r.body.slice(0, 300)}`);
}
