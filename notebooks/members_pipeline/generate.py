"""Fake members for a MySQL test database (Faker, seeded, batched multi-row inserts)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

from .config import GenerateConfig
from .mysql import MySqlConnection
from .results import Status
from .schema import SOURCE_COLUMNS

CREATE_TABLE = """
CREATE TABLE `{table}` (
  member_id VARCHAR(36) NOT NULL,
  first_name VARCHAR(100),
  last_name VARCHAR(100),
  email VARCHAR(255),
  phone_number VARCHAR(32),
  address VARCHAR(255),
  city VARCHAR(100),
  country VARCHAR(100),
  registration_date DATE,
  PRIMARY KEY (member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""
# Kinds of deliberately invalid rows (used to exercise quarantine); a blank key can exist once (primary key).
INVALID_KINDS = ("malformed email", "future registration_date", "zero registration_date", "blank member_id")


def fake_members(rows: int, seed: int, invalid_rows: int = 0, today: dt.date | None = None) -> Iterator[tuple]:
    """Yield ``rows`` member tuples; the same seed yields the same members. The last ``invalid_rows`` are bad."""
    from faker import Faker

    Faker.seed(seed)
    fake = Faker()
    today = today or dt.date.today()
    for i in range(rows):
        row = {
            "member_id": fake.uuid4(),
            "first_name": fake.first_name(),
            "last_name": fake.last_name(),
            "email": fake.email(),
            "phone_number": fake.phone_number(),
            "address": fake.street_address(),
            "city": fake.city(),
            "country": fake.country(),
            "registration_date": fake.date_between(start_date="-10y", end_date=today),
        }
        bad = i - (rows - invalid_rows)
        if bad >= 0:
            kind = INVALID_KINDS[bad % 3] if bad > 0 else INVALID_KINDS[3]
            if kind == "malformed email":
                row["email"] = row["email"].replace("@", " at ")
            elif kind == "future registration_date":
                row["registration_date"] = today + dt.timedelta(days=30 + bad % 300)
            elif kind == "zero registration_date":
                row["registration_date"] = "0000-00-00"
            else:
                row["member_id"] = ""
        yield tuple(row[c] for c in SOURCE_COLUMNS)


def tls_context(ca_path: str = ""):
    """TLS that authenticates the server: its certificate must chain to ca_path (PEM; "" = the system CAs) and name
    the host connected to. PyMySQL given an SSLContext also refuses a server that offers no TLS at all."""
    import ssl

    context = ssl.create_default_context(cafile=ca_path or None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def connect(conn: MySqlConnection, *, ca_path: str = "", **kwargs):
    """A PyMySQL connection, always over verified TLS (tls_context)."""
    import pymysql

    return pymysql.connect(
        host=conn.host[1:-1] if conn.host.startswith("[") else conn.host,  # a bracketed IPv6 literal
        ssl=tls_context(ca_path),
        port=conn.port,
        user=conn.user,
        password=conn.password,
        database=conn.database,
        charset="utf8mb4",
        connect_timeout=10,
        **kwargs,
    )


def generate_members(conn: MySqlConnection, cfg: GenerateConfig) -> dict:
    started = time.monotonic()
    try:
        db = connect(conn, ca_path=cfg.ca_path)
    except Exception as exc:
        raise ConnectionError(
            f"cannot connect to MySQL at {conn.host}:{conn.port} (database {conn.database!r}): {exc.args[-1] if exc.args else exc}"
        ) from None
    try:
        with db.cursor() as cur:
            # Zero dates are only insertable when the session allows them; keep everything else strict.
            cur.execute("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'")
            cur.execute("SHOW TABLES LIKE %s", (cfg.table,))
            exists = cur.fetchone() is not None
            if exists and cfg.if_exists == "FAIL":
                raise RuntimeError(f'table `{cfg.table}` already exists in {conn.location}; set widget "if_exists" to REPLACE or APPEND')
            if exists and cfg.if_exists == "REPLACE":
                cur.execute(f"DROP TABLE `{cfg.table}`")
            if not exists or cfg.if_exists == "REPLACE":
                cur.execute(CREATE_TABLE.format(table=cfg.table))
            sql = f"INSERT INTO `{cfg.table}` ({', '.join(SOURCE_COLUMNS)}) VALUES ({', '.join(['%s'] * len(SOURCE_COLUMNS))})"
            batch: list[tuple] = []
            inserted = 0
            for row in fake_members(cfg.rows, cfg.seed, cfg.invalid_rows):
                batch.append(row)
                if len(batch) >= cfg.batch_size:
                    inserted += cur.executemany(sql, batch)  # PyMySQL sends one multi-row INSERT per batch
                    db.commit()
                    batch.clear()
            if batch:
                inserted += cur.executemany(sql, batch)
                db.commit()
            cur.execute(f"SELECT COUNT(*) FROM `{cfg.table}`")
            total = cur.fetchone()[0]
    finally:
        db.close()
    return {
        "status": Status.OK.value,
        "table": cfg.table,
        "inserted": inserted,
        "table_rows": total,
        "invalid_rows": cfg.invalid_rows,
        "seed": cfg.seed,
        "seconds": round(time.monotonic() - started, 2),
    }
