#!/usr/bin/env bash
# Local MariaDB for tests and the demo: `mariadb.sh up|down|status`.
# Installs Debian's mariadb-server when missing, keeps its data under $MARIADB_DIR (ignored .local/),
# listens on 127.0.0.1:$MARIADB_PORT only, runs in UTC. Idempotent. MARIADB_BUFFER_POOL (default 256M) sizes the InnoDB
# buffer pool: the bench sets it so a 10M-row table with random uuid keys is generated in memory, not by page thrash.
#
# TLS: the first `up` generates a throwaway CA and a server certificate (CN localhost, SAN DNS:localhost and
# IP:127.0.0.1, openssl) under $MARIADB_DIR/tls/ and serves them (ssl-ca/ssl-cert/ssl-key); plain TCP stays accepted.
# The clients verify the server against that CA: ca.pem (PyMySQL, the generator) and truststore.p12, a password-less
# PKCS12 trust store made by the JDK's keytool (Connector/J's trustCertificateKeyStoreUrl). `mariadb.sh tls-paths`
# prints both paths. The keys never leave $MARIADB_DIR and are worthless outside this loopback-only test server.
set -euo pipefail

: "${MARIADB_DIR:?}" "${MARIADB_PORT:?}" "${MARIADB_DATABASE:?}" "${MARIADB_USER:?}" "${MARIADB_PASSWORD:?}"
DATA="$MARIADB_DIR/data"
SOCK="$MARIADB_DIR/mariadb.sock"
PID="$MARIADB_DIR/mariadb.pid"
LOG="$MARIADB_DIR/mariadb.log"
export PATH="$PATH:/usr/sbin:/usr/bin"

find_bin() { for b in "$@"; do command -v "$b" 2>/dev/null && return 0; done; return 1; }

install_server() {
  find_bin mariadbd mysqld >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "mariadb.sh: mariadb-server is not installed and we are not root; install it or set MEMBERS_MYSQL_HOST" >&2
    exit 1
  fi
  echo "mariadb.sh: installing mariadb-server (Debian)" >&2
  # Keep the package's postinst from starting a system-wide server on 3306 (standard container practice).
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1; fi
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server mariadb-client)
  if ! "${apt[@]}" >"${TMPDIR:-/tmp}/mariadb-apt.log" 2>&1; then
    apt-get update -q >>"${TMPDIR:-/tmp}/mariadb-apt.log" 2>&1
    "${apt[@]}" >>"${TMPDIR:-/tmp}/mariadb-apt.log" 2>&1 || { cat "${TMPDIR:-/tmp}/mariadb-apt.log" >&2; [ $created = 1 ] && rm -f "$policy"; exit 1; }
  fi
  [ $created = 1 ] && rm -f "$policy"
  return 0
}

client() { "$(find_bin mariadb mysql)" --no-defaults --protocol=socket --socket="$SOCK" -uroot "$@"; }
ping_ok() { "$(find_bin mariadb-admin mysqladmin)" --no-defaults --protocol=socket --socket="$SOCK" -uroot ping >/dev/null 2>&1; }
# Alive = exists and is not a zombie: an exited server its parent has not reaped yet (a subreaper busy elsewhere, a
# container's PID 1 that never reaps) still answers kill -0, and `down` would wait its whole timeout for it.
alive() { local stat; stat="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$stat" != Z* ]]; }
running() { [ -f "$PID" ] && alive "$(cat "$PID")"; }
TLS="$MARIADB_DIR/tls"

# Once per $MARIADB_DIR: CA, server key + certificate signed by it, and the CA as a PKCS12 trust store.
make_tls() {
  [ -s "$TLS/truststore.p12" ] && [ -s "$TLS/server-cert.pem" ] && return 0
  command -v openssl >/dev/null || { echo "mariadb.sh: openssl is needed for the test server's TLS certificates" >&2; exit 1; }
  command -v keytool >/dev/null || { echo "mariadb.sh: keytool (JDK) is needed for the test trust store" >&2; exit 1; }
  rm -rf "$TLS"; mkdir -p "$TLS"; chmod 700 "$TLS"
  (
    cd "$TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=members local test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server-key.pem -out server.csr
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -extfile server.ext -out server-cert.pem
    # Password-less PKCS12 (no MAC, certificates not encrypted): it holds only the public CA certificate, so
    # Connector/J needs no trustCertificateKeyStorePassword.
    keytool -J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE -J-Dkeystore.pkcs12.macAlgorithm=NONE -importcert -noprompt \
      -storetype PKCS12 -keystore truststore.p12 -storepass unused-public-certs-only -alias members-test-ca -file ca.pem
    rm -f server.csr server.ext ca.srl
  ) >"$MARIADB_DIR/tls.log" 2>&1 || { cat "$MARIADB_DIR/tls.log" >&2; rm -rf "$TLS"; exit 1; }
  chmod 600 "$TLS"/*-key.pem
}

up() {
  install_server
  mkdir -p "$MARIADB_DIR"
  if running && ping_ok; then echo "mariadb.sh: already running on 127.0.0.1:$MARIADB_PORT" >&2; else
    # Another process on the port would make the server exit at once: say so now, naming the variable that moves it.
    if (exec 3<>"/dev/tcp/127.0.0.1/$MARIADB_PORT") 2>/dev/null; then
      echo "mariadb.sh: 127.0.0.1:$MARIADB_PORT is in use by another process; choose a free port with MARIADB_PORT," \
        "e.g. make demo MARIADB_PORT=$((MARIADB_PORT + 10))" >&2
      exit 1
    fi
    if [ ! -d "$DATA/mysql" ]; then
      rm -rf "$DATA"
      "$(find_bin mariadb-install-db mysql_install_db)" --no-defaults --datadir="$DATA" --user="$(id -un)" \
        --auth-root-authentication-method=normal --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 \
        || { cat "$MARIADB_DIR/install.log" >&2; exit 1; }
    fi
    make_tls
    local user_opt=(); [ "$(id -u)" = 0 ] && user_opt=(--user=root)
    setsid "$(find_bin mariadbd mysqld)" --no-defaults --datadir="$DATA" --socket="$SOCK" --pid-file="$PID" \
      --port="$MARIADB_PORT" --bind-address=127.0.0.1 --default-time-zone=+00:00 --skip-name-resolve \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --max-allowed-packet=64M \
      --innodb-buffer-pool-size="${MARIADB_BUFFER_POOL:-256M}" --innodb-flush-log-at-trx-commit=2 --log-error="$LOG" "${user_opt[@]}" \
      --ssl-ca="$TLS/ca.pem" --ssl-cert="$TLS/server-cert.pem" --ssl-key="$TLS/server-key.pem" \
      </dev/null >/dev/null 2>&1 &
    local server=$!
    # Up to 60 s to start, but not a second longer than the server lives.
    for _ in $(seq 1 120); do ping_ok && break; alive "$server" || break; sleep 0.5; done
    if ! ping_ok; then
      # A socket can hold the port without listening (a client connection's local end), which the check above misses.
      if grep -q "Address already in use" "$LOG" 2>/dev/null; then
        echo "mariadb.sh: 127.0.0.1:$MARIADB_PORT is taken (the server could not bind it); choose a free port with" \
          "MARIADB_PORT, e.g. make demo MARIADB_PORT=$((MARIADB_PORT + 10))" >&2
      fi
      echo "mariadb.sh: server did not start; log follows" >&2; tail -n 40 "$LOG" >&2; exit 1
    fi
  fi
  client <<SQL
CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$MARIADB_USER'@'127.0.0.1' IDENTIFIED BY '$MARIADB_PASSWORD';
CREATE USER IF NOT EXISTS '$MARIADB_USER'@'localhost' IDENTIFIED BY '$MARIADB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'localhost';
SQL
  echo "mariadb.sh: MariaDB $(client -N -e 'SELECT VERSION()') ready on 127.0.0.1:$MARIADB_PORT, database $MARIADB_DATABASE," \
    "TLS $(client -N -e "SHOW GLOBAL VARIABLES LIKE 'have_ssl'" | cut -f2); CA $TLS/ca.pem, trust store $TLS/truststore.p12" >&2
}

down() {
  if running; then
    local pid; pid="$(cat "$PID")"
    "$(find_bin mariadb-admin mysqladmin)" --no-defaults --protocol=socket --socket="$SOCK" -uroot shutdown >/dev/null 2>&1 || kill "$pid"
    for _ in $(seq 1 60); do alive "$pid" || break; sleep 0.5; done
    echo "mariadb.sh: stopped" >&2
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  tls-paths) make_tls; printf 'MEMBERS_MYSQL_CA=%s\nMEMBERS_MYSQL_TRUST_STORE=%s\n' "$TLS/ca.pem" "$TLS/truststore.p12" ;;
  status) if running && ping_ok; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 up|down|status|tls-paths" >&2; exit 2 ;;
esac
