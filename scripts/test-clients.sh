#!/bin/sh
# Runs real CMS API clients, unchanged, against a callbridged started here:
#   - newman (Postman's runner) with tests/postman/callbridge.postman_collection.json
#   - ansible-playbook with tests/ansible/turn.yml (uri with and without force_basic_auth)
#   - ansible-playbook with tests/ansible/provision.yml (the deployment roles' way: [200, 400],
#     the same POST twice, /callprofiles in lower case, ids carried from Location to Location)
#   - tests/cdr/receiver_killed.py: a CDR receiver process killed (SIGKILL) for a minute in the
#     middle of calls gets every record afterwards, once and in order (its own callbridged)
# Usage: scripts/test-clients.sh path/to/callbridged
# The daemon listens on 127.0.0.1 on a port the kernel picks, has its own temporary data
# directory, and is stopped by its PID (SIGTERM; its exit status must be 0).
set -eu

daemon=${1:?usage: $0 path/to/callbridged}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/cbclients.XXXXXX")
pid=""
passed=0
failed=0

outage=""
cleanup() {
    if [ -n "$outage" ] && kill -0 "$outage" 2>/dev/null; then
        kill -TERM "$outage" 2>/dev/null || true
        wait "$outage" 2>/dev/null || true
    fi
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

run() { # name, command...
    name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "client $name: ok"
    else
        failed=$((failed + 1))
        echo "client $name: FAILED" >&2
    fi
}

# the CDR receiver killed for a minute (about 75 s, every wait in it bounded; its own callbridged
# and receiver): it runs beside the other clients, which it does not touch, and is waited for last
python3 "$top/tests/cdr/receiver_killed.py" "$daemon" >"$dir/cdr-outage.log" 2>&1 &
outage=$!

# newman, pinned in tests/postman/package-lock.json
if [ ! -x "$top/tests/postman/node_modules/.bin/newman" ]; then
    (cd "$top/tests/postman" && npm ci --no-audit --no-fund --loglevel=error)
fi

password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
CALLBRIDGE_ADMIN_PASSWORD=$password "$daemon" --data-dir "$dir" --bind 127.0.0.1 --listen 0 \
    --threads 2 >"$dir/daemon.log" 2>&1 &
pid=$!
port=""
i=0
while [ $i -lt 300 ] && [ -z "$port" ]; do # at most 30 s
    grep -q ' ready (' "$dir/daemon.log" 2>/dev/null &&
        port=$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/daemon.log")
    kill -0 "$pid" 2>/dev/null || break
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
done
if [ -z "$port" ]; then
    echo "test-clients: callbridged did not start:" >&2
    cat "$dir/daemon.log" >&2
    exit 1
fi
url="https://127.0.0.1:$port"

run newman "$top/tests/postman/node_modules/.bin/newman" run \
    "$top/tests/postman/callbridge.postman_collection.json" \
    --env-var "mmpHost=127.0.0.1:$port" --env-var "user=admin" --env-var "password=$password" \
    --ssl-extra-ca-certs "$dir/cert.pem" --bail --color off --reporters cli

run ansible env ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
    ansible-playbook -i localhost, "$top/tests/ansible/turn.yml" \
    -e "base_url=$url" -e "api_password=$password" -e "ca_path=$dir/cert.pem" \
    -e "ansible_python_interpreter=/usr/bin/python3"

run ansible-provision env ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 \
    ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
    ansible-playbook -i localhost, "$top/tests/ansible/provision.yml" \
    -e "base_url=$url" -e "api_password=$password" -e "ca_path=$dir/cert.pem" \
    -e "ansible_python_interpreter=/usr/bin/python3"


# the Prometheus scrape job docs/operations.md gives, as Prometheus itself reads it
awk '/^```yaml$/ {on = 1; next} /^```$/ {on = 0} on' "$top/docs/operations.md" >"$dir/prometheus.yml"
run prometheus-config sh -c "grep -q scrape_configs '$dir/prometheus.yml' &&
    promtool check config '$dir/prometheus.yml' >/dev/null"

# cbctl's bash completion, with cbctl's connection from a config file as a user would keep it
mkdir -p "$dir/xdg/cbctl"
printf 'url = %s\nuser = admin\npassword-file = %s\ncacert = %s\n' "$url" "$dir/admin-password" \
    "$dir/cert.pem" >"$dir/xdg/cbctl/config"
printf '%s\n' "$password" >"$dir/admin-password"
run bash-completion env PATH="$(cd "$(dirname "$daemon")" && pwd):$PATH" \
    XDG_CONFIG_HOME="$dir/xdg" bash "$top/scripts/test-completion.bash"

# the systemd unit, as systemd reads it (with this build's binary in ExecStart)
sed "s#/usr/local/bin/callbridged#$(realpath "$daemon")#" "$top/scripts/callbridged.service" \
    >"$dir/callbridged.service"
run systemd-unit systemd-analyze verify "$dir/callbridged.service"

# without force_basic_auth, Ansible first POSTs without credentials and answers the challenge
if ! grep -q ' POST /api/v1/turnServers 401 ' "$dir/daemon.log"; then
    echo "test-clients: the 401 challenge path was not exercised" >&2
    failed=$((failed + 1))
fi
if grep -q -- "$password" "$dir/daemon.log" || grep -q "ansible-turn-secret\|newman-secret" "$dir/daemon.log"; then
    echo "test-clients: a password appears in the daemon's log" >&2
    failed=$((failed + 1))
fi

if wait "$outage"; then
    passed=$((passed + 1))
    cat "$dir/cdr-outage.log"
    echo "client cdr-receiver-killed: ok"
else
    failed=$((failed + 1))
    cat "$dir/cdr-outage.log" >&2
    echo "client cdr-receiver-killed: FAILED" >&2
fi
outage=""

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
if [ "$status" -ne 0 ]; then
    echo "test-clients: callbridged exited with $status after SIGTERM" >&2
    failed=$((failed + 1))
fi
echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
