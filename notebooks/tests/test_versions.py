"""The local engines match the pins that the stacks deploy (stacks/config/platform.json)."""

import json
import re
from importlib.metadata import version
from pathlib import Path

import pyspark
from run_local import platform_pins

NOTEBOOKS = Path(__file__).resolve().parents[1]


def test_local_pyspark_is_on_the_spark_line_of_the_pinned_runtime():
    pins = platform_pins()
    raw = json.loads((NOTEBOOKS.parent / "stacks" / "config" / "platform.json").read_text())
    assert raw["supportedRuntimes"][pins["spark_version"]] == pins["spark_line"]
    major_minor = ".".join(pyspark.__version__.split(".")[:2])
    assert major_minor == pins["spark_line"], f"pyspark {pyspark.__version__} but runtime {pins['spark_version']} runs Spark {pins['spark_line']}"


def test_delta_jar_and_pip_package_agree_with_the_pin():
    pins = platform_pins()
    group_artifact, jar_version = pins["delta_maven"].rsplit(":", 1)
    assert group_artifact == "io.delta:delta-spark_2.13"  # Scala 2.13 like the runtime
    assert pins["spark_version"].endswith("scala2.13")
    assert version("delta-spark") == jar_version
    assert version("delta-spark").split(".")[:2] == pyspark.__version__.split(".")[:2]


def test_jdbc_driver_is_mysql_connector_j_and_loaded(spark):
    pins = platform_pins()
    assert re.fullmatch(r"com\.mysql:mysql-connector-j:\d+\.\d+\.\d+", pins["jdbc_maven"])
    jar = pins["jdbc_maven"].split(":", 1)[1].replace(":", "-") + ".jar"  # mysql-connector-j-<ver>.jar
    jars = spark.sparkContext._jsc.sc().listJars().mkString(",")
    assert jar in jars and "delta-spark_2.13-" + pins["delta_maven"].rsplit(":", 1)[1] + ".jar" in jars


def test_jvm_and_session_run_in_utc(spark):
    assert spark.sparkContext._jvm.java.util.TimeZone.getDefault().getID() == "UTC"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_generator_notebook_installs_the_pinned_versions():
    reqs = dict(line.split("==") for line in (NOTEBOOKS / "requirements.txt").read_text().splitlines() if "==" in line and not line.startswith("#"))
    pip_line = next(line for line in (NOTEBOOKS / "generate_member_data.py").read_text().splitlines() if "%pip install" in line)
    for spec in pip_line.split("%pip install", 1)[1].split():
        name, pinned = spec.split("==")
        assert reqs[name] == pinned, f"{name}: notebook installs {pinned}, requirements.txt pins {reqs[name]}"
