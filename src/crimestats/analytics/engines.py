"""The engines the statistics are computed on: DuckDB, in the store itself, or Spark, through Ibis's PySpark backend.

The expressions of this package are the same on both; what differs by engine is said here, in one place. The
store stays a DuckDB file either way, and what an engine computes is kept in it (:mod:`.materialised`), so a
question is answered from the store without starting Spark again.

Spark reads the store's tables as Parquet, written by crimestats once per state of the store into
:func:`parquet_folder` (the street-level crimes partitioned by force). It runs in local mode unless
``$CRIMESTATS_SPARK_MASTER`` names a cluster (``spark://host:7077``, ``yarn``, ``k8s://…``) or a Spark Connect
server (``sc://host:15002``); on a cluster the folder must be one every executor can read.
"""

from __future__ import annotations

import functools
import gc
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crimestats.errors import EngineError

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pyarrow as pa

    from crimestats.store import Store

__all__ = ["backend", "parquet_folder", "spark_master", "staged", "to_arrow"]

#: The store tables written to Parquet partitioned, and by which column (the others are small).
PARTITIONS = {"street_crimes": "force_code", "street_outcomes": "force_code", "stop_and_search": "force_code"}

#: Spark settings in local mode, where Spark's defaults are a cluster's: 200 shuffle partitions, and adaptive
#: re-planning of each stage, cost more than they save on one machine (adaptive planning off: 29-37 s against
#: 41-43 s for the force statistics of ../shared/data on two cores).
LOCAL_SETTINGS = {
    "spark.sql.shuffle.partitions": str(os.cpu_count() or 2),
    "spark.sql.adaptive.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "4g",
}
#: Spark settings everywhere: dates and times in UTC (a 12-month period ends on a date, never in a time zone),
#: data passed to and from Python as Arrow, and no progress bars of Spark's stages over a command's output.
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}
_DIGEST_FOLDER = re.compile(r"[0-9a-f]{20}")


def backend(store: Store, *tables: str) -> ibis.BaseBackend:
    """The backend the statistics of ``store`` are computed on, holding the store's ``tables``: the store itself
    on DuckDB; on Spark, those tables written to Parquet (once for each state of the store) and read from there."""
    if store.engine == "duckdb":
        return store.backend
    spark = _spark(spark_master())
    folder = _exported(store, tables)
    catalog = spark._session.catalog
    for name in tables:
        if name not in PARTITIONS and catalog.tableExists(name) and catalog.isCached(name):
            catalog.uncacheTable(name)  # another state of the store's
        spark.read_parquet(str(folder / name), table_name=name)
        if name not in PARTITIONS:
            catalog.cacheTable(name)  # small, and read at dozens of places of a computation
    return spark


def staged(backend: ibis.BaseBackend, table: ir.Table) -> ir.Table:
    """A step of a computation that later steps use more than once, computed once.

    DuckDB keeps a common subexpression of one query itself. Spark computes it again for every use (a self-join
    of a self-join …: 64 stages and 83 s for the force statistics), so there the step is cached.
    """
    if backend.name != "pyspark":
        return table
    backend._run_pre_execute_hooks(table)  # Ibis 12 caches on Spark without registering the in-memory tables
    return table.cache().cast(table.schema())  # the cached table has Spark's types: keep the expression's


def to_arrow(backend: ibis.BaseBackend, expr: ir.Table) -> pa.Table:
    """The rows of ``expr`` as Arrow, with the expression's types. Ibis's PySpark backend passes them through
    pandas; Spark 4 hands Arrow over itself (``DataFrame.toArrow``), so there the query is run that way."""
    session = getattr(backend, "_session", None)
    if backend.name != "pyspark" or not hasattr(session, "sql"):
        return expr.to_pyarrow()
    backend._run_pre_execute_hooks(expr)
    frame = session.sql(backend.compile(expr))  # type: ignore[union-attr]
    if not hasattr(frame, "toArrow"):  # Spark 3.5
        return expr.to_pyarrow()
    with warnings.catch_warnings():  # pyspark 4.0 leaves the socket it collected from open: close it quietly
        warnings.simplefilter("ignore", ResourceWarning)
        table: pa.Table = frame.toArrow()
        gc.collect()
    return table.cast(expr.schema().to_pyarrow())


def spark_master() -> str:
    """The Spark cluster to run on: ``$CRIMESTATS_SPARK_MASTER``, else local mode on every core."""
    return os.environ.get("CRIMESTATS_SPARK_MASTER") or "local[*]"


def parquet_folder(store: Store) -> Path:
    """Where the store's tables are written for Spark: ``$CRIMESTATS_SPARK_DATA``, else beside the store
    (``crimestats.spark/`` for ``crimestats.duckdb``). One subfolder for each state of the store's files."""
    configured = os.environ.get("CRIMESTATS_SPARK_DATA")
    return Path(configured) if configured else store.path.with_suffix(".spark")


def _exported(store: Store, tables: tuple[str, ...]) -> Path:
    """The folder holding ``tables`` of the store as Parquet, written first if need be (each table to a partial
    folder renamed into place, so a reader never sees half a table); folders of earlier states are removed."""
    root = parquet_folder(store)
    folder = root / store.files_digest()[:20]
    for name in tables:
        target = folder / name
        if target.exists():
            continue
        partial = folder / f".{name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        column = PARTITIONS.get(name)
        into, options = (partial, f", PARTITION_BY ({column})") if column else (partial / "data.parquet", "")
        quoted = str(into).replace("'", "''")
        store.con.execute(f"COPY {name} TO '{quoted}' (FORMAT parquet{options})")
        try:
            partial.rename(target)
        except OSError:  # another process wrote it first
            shutil.rmtree(partial, ignore_errors=True)
    for old in root.iterdir():
        if old != folder and old.is_dir() and _DIGEST_FOLDER.fullmatch(old.name):
            shutil.rmtree(old, ignore_errors=True)
    return folder


@functools.cache
def _spark(master: str) -> ibis.BaseBackend:
    """One Spark session for the process, through Ibis, on ``master``."""
    import ibis

    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError("the spark engine needs pyspark: pip install 'crimestats[spark]'") from exc
    remote = master.startswith("sc://")
    if not remote and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineError(
            "the spark engine needs Java 17 or later (Debian: apt-get install openjdk-17-jre-headless), "
            "or a Spark Connect server in $CRIMESTATS_SPARK_MASTER (sc://host:15002)"
        )
    builder: Any = SparkSession.builder.appName("crimestats")
    builder = builder.remote(master) if remote else builder.master(master)
    settings = {**SETTINGS, **(LOCAL_SETTINGS if master.startswith("local") else {})}
    if not remote:
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={_quiet_logging()}"
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own and py4j's errors; each is one line for the user
        raise EngineError(f"cannot start Spark on {master}: {_first_line(exc)}") from exc
    if not remote:
        session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def _quiet_logging() -> Path:
    """Spark's log settings: errors only, so a command prints its answer rather than Spark's start-up."""
    return Path(__file__).parent.parent / "data" / "spark-log4j2.properties"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
