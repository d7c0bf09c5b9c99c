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


def deployment_widgets(notebook: str) -> tuple[str, ...]:
    """Widgets the deployment fixes ("deployment": true): never job parameters; see deployment.py."""
    return tuple(name for name, spec in parameters(notebook).items() if spec.get("deployment") is True)


def deployment_conf_key(notebook: str, name: str) -> str:
    """The Spark conf key holding a deployment setting on the job cluster: spark.members.<notebook>.<widget>."""
    return f"{CONTRACT['deploymentConfPrefix']}.{notebook}.{name}"


def declare_widgets(dbutils, notebook: str, deployed: dict[str, str] | None = None) -> None:
    """Declare every widget of the notebook as a text widget with the contract's default and label; a widget the
    deployment fixes (deployed, from deployment.read_deployment_settings) shows the deployed value instead."""
    deployed = deployed or {}
    for name, spec in parameters(notebook).items():
        dbutils.widgets.text(name, deployed.get(name, spec["default"]), spec["label"])
