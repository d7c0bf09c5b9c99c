"""Small file operations on the landing zone through ``dbutils.fs`` (works on s3://, abfss:// and, with the
local runner's stand-in, on local paths), used for the manifest and for batch discovery."""

from __future__ import annotations

import json
from typing import Any


class Files:
    def __init__(self, dbutils: Any):
        self._fs = dbutils.fs

    def exists(self, path: str) -> bool:
        try:
            self._fs.ls(path)
            return True
        except Exception as exc:  # dbutils raises a wrapped java FileNotFoundException
            if "FileNotFound" in type(exc).__name__ or "FileNotFound" in str(exc) or "No such file" in str(exc):
                return False
            raise

    def list_dirs(self, path: str) -> list[str]:
        """Names (without trailing slash) of the sub-directories of ``path``; [] if it does not exist."""
        if not self.exists(path):
            return []
        return sorted(f.name.rstrip("/") for f in self._fs.ls(path) if f.name.endswith("/"))

    def list_files(self, path: str) -> list[str]:
        if not self.exists(path):
            return []
        return sorted(f.name for f in self._fs.ls(path) if not f.name.endswith("/"))

    def write_json(self, path: str, payload: dict) -> None:
        self._fs.put(path, json.dumps(payload, indent=2, sort_keys=True), True)

    def read_json(self, path: str) -> dict:
        # head() reads at most maxBytes; a manifest is a few hundred bytes.
        return json.loads(self._fs.head(path, 1024 * 1024))

    def remove(self, path: str) -> None:
        if self.exists(path):
            self._fs.rm(path, False)
