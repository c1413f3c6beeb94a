#!/usr/bin/env bash
# Real rotation targets on 127.0.0.1 for test/rotation: PostgreSQL (password auth), MariaDB,
# Redis (ACL file) and OpenSSH, each on a free port with all of its state under one temp dir.
#
#   eval "$(bash test/rotation/targets.sh start)"   # as root; prints `export …` lines
#   bash test/rotation/targets.sh stop "$COFFER_TEST_TARGETS_DIR"
#
# Exports COFFER_TEST_ROTATION_PG_URL, COFFER_TEST_MYSQL_URL, COFFER_TEST_REDIS_URL,
# COFFER_TEST_SSH_HOST/PORT/ADMIN_USER/ADMIN_KEY and COFFER_TEST_TARGETS_DIR. Needs the Debian
# packages postgresql, mariadb-server, redis-server and openssh-server. Stops only what it started.
set -euo pipefail

log() { echo "[targets] $*" >&2; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "ERROR: $what did not come up"; return 1
}
rand() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20; }

start() {
  [[ $(id -u) == 0 ]] || { log "ERROR: run as root (the servers run as their own users; sshd needs root)"; exit 1; }
  local D; D=$(mktemp -d /tmp/coffer-rot-targets.XXXXXX); chmod 755 "$D"
  echo "export COFFER_TEST_TARGETS_DIR=$D"

  # --- PostgreSQL: its own cluster, scram-sha-256 over TCP (the suite's cluster trusts everyone).
  local PG_BIN; PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  local PP PGPW; PP=$(free_port); PGPW=$(rand)
  install -d -o postgres -g postgres "$D/pg"
  printf '%s\n' "$PGPW" > "$D/pg/pwfile"; chown postgres "$D/pg/pwfile"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$D/pg/data" -U postgres --pwfile="$D/pg/pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync >"$D/pg/initdb.log" 2>&1 \
    || { cat "$D/pg/initdb.log" >&2; exit 1; }
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$D/pg/data" -l "$D/pg/pg.log" -w -t 60 start \
    -o "-p $PP -k $D/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" >/dev/null \
    || { tail -n 20 "$D/pg/pg.log" >&2; exit 1; }
  echo "export COFFER_TEST_ROTATION_PG_URL=postgres://postgres:$PGPW@127.0.0.1:$PP/postgres"
  log "PostgreSQL on 127.0.0.1:$PP"

  # --- Redis with an ACL file, so ACL users survive a restart (ACL SAVE).
  local RP; RP=$(free_port); touch "$D/redis-users.acl"
  redis-server --bind 127.0.0.1 --port "$RP" --daemonize yes --save '' --appendonly no --dir "$D" \
    --pidfile "$D/redis.pid" --logfile "$D/redis.log" --aclfile "$D/redis-users.acl"
  wait_for Redis 10 redis-cli -h 127.0.0.1 -p "$RP" ping
  echo "export COFFER_TEST_REDIS_URL=redis://127.0.0.1:$RP"
  log "Redis on 127.0.0.1:$RP"

  # --- MariaDB: its own data dir; root over the unix socket creates the admin account.
  local MP MPW; MP=$(free_port); MPW=$(rand)
  install -d -o mysql -g mysql "$D/mysql" "$D/mysql-run"
  mariadb-install-db --user=mysql --datadir="$D/mysql" --auth-root-authentication-method=socket --skip-test-db >"$D/mysql-install.log" 2>&1 \
    || { tail -n 20 "$D/mysql-install.log" >&2; exit 1; }
  nohup /usr/sbin/mariadbd --user=mysql --datadir="$D/mysql" --socket="$D/mysql-run/mysqld.sock" --pid-file="$D/mysql-run/mysqld.pid" \
    --bind-address=127.0.0.1 --port="$MP" --skip-name-resolve --log-error="$D/mysql.err" --innodb-flush-log-at-trx-commit=0 >/dev/null 2>&1 &
  wait_for MariaDB 60 mariadb-admin --socket="$D/mysql-run/mysqld.sock" ping
  mariadb --socket="$D/mysql-run/mysqld.sock" -e "CREATE USER 'coffer_admin'@'%' IDENTIFIED BY '$MPW'; GRANT ALL PRIVILEGES ON *.* TO 'coffer_admin'@'%' WITH GRANT OPTION;"
  echo "export COFFER_TEST_MYSQL_URL=mysql://coffer_admin:$MPW@127.0.0.1:$MP"
  log "MariaDB on 127.0.0.1:$MP"

  # --- OpenSSH: own config and host key; root logs in with a key kept under the temp dir.
  local SP; SP=$(free_port)
  install -d -m 755 "$D/ssh" "$D/ssh/authorized_keys"; install -d /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$D/ssh/host_ed25519" -C coffer-test-host
  ssh-keygen -q -t ed25519 -N '' -f "$D/ssh/admin_key" -C coffer-test-admin
  cp "$D/ssh/admin_key.pub" "$D/ssh/authorized_keys/root"
  cat >"$D/ssh/sshd_config" <<EOF
Port $SP
ListenAddress 127.0.0.1
HostKey $D/ssh/host_ed25519
PidFile $D/ssh/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AuthorizedKeysFile .ssh/authorized_keys $D/ssh/authorized_keys/%u
MaxStartups 50:30:100
MaxAuthTries 10
LogLevel ERROR
EOF
  /usr/sbin/sshd -f "$D/ssh/sshd_config" -E "$D/ssh/sshd.log"
  wait_for sshd 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SP"
  echo "export COFFER_TEST_SSH_HOST=127.0.0.1 COFFER_TEST_SSH_PORT=$SP COFFER_TEST_SSH_ADMIN_USER=root COFFER_TEST_SSH_ADMIN_KEY=$D/ssh/admin_key"
  log "sshd on 127.0.0.1:$SP"
}

stop() {
  local D=${1:-}
  [[ -n "$D" && -d "$D" && "$D" == /tmp/coffer-rot-targets.* ]] || { log "stop: no targets dir given"; return 0; }
  local PG_BIN; PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -f "$D/pg/data/postmaster.pid" ]] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$D/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  for f in "$D/redis.pid" "$D/mysql-run/mysqld.pid" "$D/ssh/sshd.pid"; do
    [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  for _ in $(seq 50); do [[ -f "$D/mysql-run/mysqld.pid" ]] || break; sleep 0.2; done
  rm -rf "$D"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
