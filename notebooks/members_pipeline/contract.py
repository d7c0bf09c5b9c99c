"""The stack <-> notebook contract, read from contract.json (next to this module; the stack reads the same file).

Names, widget defaults and bounds of every notebook parameter, and the MySQL secret keys, exist only there: the
parsers in config.py take defaults and bounds from here, the notebooks declare their widgets with declare_widgets,
the stack builds its job parameters, defaults and validation from the same file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONTRACT_FILE = Path(__file__).with_name("contract.json")
CONTRACT: dict[str, Any] = json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))

# Keys of the MySQL secret scope (the stack writes the same keys).
SECRET_KEYS: tuple[str, ...] = tuple(CONTRACT["secretKeys"])


def parameters(notebook: str) -> dict[str, dict[str, Any]]:
    """Widgets of a notebook ("extract", "load", "generate") by name, in declaration order."""
    return CONTRACT["notebooks"][notebook]


def default(notebook: str, name: str) -> str:
    """The widget's default text (what an empty or missing value means)."""
    return parameters(notebook)[name]["default"]


def bounds(notebook: str, name: str) -> tuple[Any, Any]:
    """(min, max) of a numeric widget."""
    spec = parameters(notebook)[name]
    return spec["min"], spec["max"]


def declare_widgets(dbutils, notebook: str) -> None:
    """Declare every widget of the notebook as a text widget with the contract's default and label."""
    for name, spec in parameters(notebook).items():
        dbutils.widgets.text(name, spec["default"], spec["label"])
