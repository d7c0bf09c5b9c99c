"""MySQL connection details from secrets, JDBC URL/properties, and a redacting repr."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from .contract import SECRET_KEYS, default

JDBC_DRIVER_CLASS = "com.mysql.cj.jdbc.Driver"


class SecretError(ValueError):
    pass


@dataclass(frozen=True)
class MySqlConnection:
    host: str
    port: int
    database: str
    user: str
    password: str

    def __repr__(self) -> str:  # secrets never reach logs, notebook output or exceptions
        return f"MySqlConnection(host={self.host!r}, port={self.port}, database={self.database!r}, user={self.user!r}, password='***')"

    __str__ = __repr__

    @property
    def location(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"


def connection_from_secrets(get_secret: Callable[[str, str], str], scope: str) -> MySqlConnection:
    values = {}
    missing = []
    first_error = ""
    for key in SECRET_KEYS:
        try:
            values[key] = (get_secret(scope, key) or "").strip() if key != "password" else get_secret(scope, key)
        except Exception as exc:  # dbutils raises its own types; keep the message, not the value
            missing.append(key)
            first_error = first_error or (exc.args[0] if exc.args else type(exc).__name__)
            continue
        if not values[key]:
            missing.append(key)
    if missing:
        detail = f"; first error: {first_error}" if first_error else ""
        raise SecretError(f'secret scope "{scope}": missing or empty key(s): {", ".join(missing)}{detail}')
    try:
        port = int(values["port"])
    except ValueError:
        raise SecretError(f'secret scope "{scope}", key "port": got "{values["port"]}", expected a TCP port number') from None
    if not 0 < port < 65536:
        raise SecretError(f'secret scope "{scope}", key "port": got "{port}", expected 1..65535')
    return MySqlConnection(**{**values, "port": port})


def jdbc_url(conn: MySqlConnection, ssl_mode: str = default("extract", "ssl_mode"), connect_timeout_ms: int = 10_000) -> str:
    """jdbc:mysql:// URL (Spark picks its MySQL dialect from the scheme); credentials stay out of the URL.

    zeroDateTimeBehavior=CONVERT_TO_NULL turns MySQL's 0000-00-00 into NULL (quarantined by load instead of
    failing the read), tinyInt1isBit=false keeps TINYINT(1) numeric, connectionTimeZone=UTC with the JVM and
    session in UTC keeps DATE values exact, and useCursorFetch streams rows in fetchsize chunks instead of
    buffering a partition in driver memory.
    """
    params = [
        ("sslMode", ssl_mode),
        ("zeroDateTimeBehavior", "CONVERT_TO_NULL"),
        ("tinyInt1isBit", "false"),
        ("connectionTimeZone", "UTC"),
        ("forceConnectionTimeZoneToSession", "false"),
        ("useCursorFetch", "true"),
        ("connectTimeout", str(connect_timeout_ms)),
        ("characterEncoding", "UTF-8"),
    ]
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
    return f"jdbc:mysql://{conn.host}:{conn.port}/{quote(conn.database, safe='')}?{query}"


def jdbc_properties(conn: MySqlConnection, fetch_size: int) -> dict[str, str]:
    return {
        "user": conn.user,
        "password": conn.password,
        "driver": JDBC_DRIVER_CLASS,
        "fetchsize": str(fetch_size),
    }
