#!/usr/bin/env python3
"""Builds the benchmark baseline: a copy of the app whose provider imports go through the package barrels, the way
`cdktf init` writes them (`import * as aws from "@cdktf/provider-aws"`). Each per-resource import

    import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";

becomes a barrel import plus an alias that keeps the name usable as value and type:

    import { s3Bucket as aws_s3Bucket } from "@cdktf/provider-aws";
    import S3Bucket = aws_s3Bucket.S3Bucket;

Usage: make-barrel-baseline.py <repo> <out-dir>. The copy shares the repo's node_modules and .local/artifacts through symlinks.
"""

import os
import re
import shutil
import sys

IMPORT = re.compile(r'^import (type )?\{([^}]*)\} from "(@cdktf/provider-[a-z]+)/lib/([a-z0-9-]+)";$', re.M)


def camel(folder: str) -> str:
    head, *rest = folder.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def rewrite(source: str) -> str:
    def replace(match: re.Match) -> str:
        package, folder = match.group(3), match.group(4)
        namespace = camel(folder)
        alias = f"{package.rsplit('-', 1)[-1]}_{namespace}"
        lines = [f'import {{ {namespace} as {alias} }} from "{package}";']
        for name in (n.strip() for n in match.group(2).split(",")):
            if not name:
                continue
            name = name.removeprefix("type ").strip()
            original, _, local = name.partition(" as ")
            lines.append(f"import {(local or original).strip()} = {alias}.{original.strip()};")
        return "\n".join(lines)

    return IMPORT.sub(replace, source)


def main(repo: str, out: str) -> None:
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    # Everything the app imports: stacks/config reads the cost model's node types from tools/cost/prices.json.
    for entry in ("main.ts", "stacks", "notebooks", "cdktf.json", "package.json", "tools/cost/prices.json"):
        src = os.path.join(repo, entry)
        dst = os.path.join(out, entry)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "tests", "*.pyc"))
        else:
            shutil.copy2(src, dst)
    os.symlink(os.path.join(repo, "node_modules"), os.path.join(out, "node_modules"))
    # The JDBC driver `make jdbc-driver` checked: the stack hashes it (stacks/databricks/artifacts.ts).
    os.makedirs(os.path.join(out, ".local"))
    os.symlink(os.path.join(repo, ".local", "artifacts"), os.path.join(out, ".local", "artifacts"))
    # The cdktf-init tsconfig: type-checked by ts-node, no isolatedModules (import-equals aliases need it off).
    with open(os.path.join(out, "tsconfig.json"), "w") as f:
        f.write(
            '{"compilerOptions": {"target": "ES2022", "module": "commonjs", "strict": true, "esModuleInterop": true,'
            ' "resolveJsonModule": true, "skipLibCheck": true, "types": ["node"]},'
            ' "include": ["main.ts", "stacks/**/*.ts", "stacks/**/*.json"]}\n'
        )
    rewritten = 0
    for root, _, files in os.walk(out):
        if "node_modules" in root:
            continue
        for name in files:
            if name.endswith(".ts"):
                path = os.path.join(root, name)
                with open(path) as f:
                    text = f.read()
                new = rewrite(text)
                if new != text:
                    rewritten += 1
                    with open(path, "w") as f:
                        f.write(new)
    print(f"baseline app in {out}: {rewritten} files rewritten to barrel imports")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
