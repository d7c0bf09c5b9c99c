"""Deployment settings: the widget values a run cannot change.

The widgets marked ``"deployment": true`` in contract.json decide who sees PII, where data comes from and lands,
which secret scope and TLS settings are used and how long PII and history are kept. The stack never passes them as
job parameters: it pins each value in the job cluster's Spark conf under ``spark.members.<notebook>.<widget>``
(e.g. ``spark.members.load.pii_reader_group``), fixed by the cluster policy, so "Run now with different parameters"
cannot change them. The parsers in config.py take these values: an empty widget or the same value means the deployed
value, any other value is refused before anything is read or written.

Without any deployment setting for the notebook (local runs, tests, a cluster the stack did not configure) the
widgets behave as before. Once the cluster carries one, it fixes them all: a setting it leaves out is fixed empty
(the stack writes no Spark conf entry for an empty value).
"""

from __future__ import annotations

from collections.abc import Callable

from . import contract

ConfGet = Callable[[str], "str | None"]


def deployment_settings(conf_get: ConfGet, notebook: str) -> dict[str, str]:
    """The notebook's deployment settings by widget name, read with ``conf_get(key)`` (None or "" = not set);
    {} when the cluster carries none of them."""
    values = {name: (conf_get(contract.deployment_conf_key(notebook, name)) or "").strip() for name in contract.deployment_widgets(notebook)}
    return values if any(values.values()) else {}


def spark_conf_get(spark) -> ConfGet:
    """Reads a Spark conf value, None when unset; the same call on a classic and a Spark Connect session."""
    return lambda key: spark.conf.get(key, None)


def read_deployment_settings(spark, notebook: str) -> dict[str, str]:
    """The deployment settings of the job cluster the notebook runs on (see the module docstring)."""
    return deployment_settings(spark_conf_get(spark), notebook)
