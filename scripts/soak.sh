#!/bin/sh
# scripts/soak.sh (make soak; not in CI): callbridged under mixed load for SOAK_SECONDS
# (default 600). On loopback: a coturn; a daemon probing 100 TURN servers (all on that coturn)
# every 10 s; 100 two-leg calls (200 legs) anchored on it, each endpoint sending 50 RTP-sized
# datagrams a second (scripts/bench/soakgen.c); and wrk with 64 connections sending a mix of
# reads (lists, one coSpace, call legs, system status) and writes (a PUT renaming one of 100
# coSpaces: SOAK_WRITES requests in 10, default 3), in ten slices. After each slice it prints the slice's requests,
# p99, errors and non-2xx answers, and the daemon's RSS and open descriptors.
# Passes when: no request failed (no socket error, no non-2xx), the p99 of the later half of
# the slices is on average under 1.5 times that of the first half, RSS and descriptors stayed
# within 5 % over the later half (the most any of its slices saw against the last slice of the
# first half, which is the warm-up: allocator arenas and caches fill there), and no datagram was
# lost beyond what the generator's own receive buffers dropped. Growth from the first slice is
# printed too.
# Usage: scripts/soak.sh build/rel
set -eu

bin=${1:?usage: $0 build/VARIANT}
secs=${SOAK_SECONDS:-600}
slices=10
slice=$((secs / slices))
[ "$slice" -ge 5 ] || { echo "soak: SOAK_SECONDS must be at least 50" >&2; exit 2; }
for tool in wrk curl /usr/bin/turnserver; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is missing (make soak installs it)" >&2; exit 2; }
done
# shellcheck source=scripts/bench/lib.sh
. "$(dirname "$0")/bench/lib.sh"

start_coturn 50000 59999 || exit 1

password=soak-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')
CALLBRIDGE_ADMIN_PASSWORD=$password "$bin/callbridged" --data-dir "$dir" --bind 127.0.0.1 \
    --listen 0 --log-level warn --probe-interval 10 >"$dir/daemon.log" 2>&1 &
daemon=$!
pids="$daemon $pids"
api=$(listen_port "$daemon") || { echo "soak: callbridged did not start" >&2; exit 1; }
base=https://127.0.0.1:$api/api/v1
auth="Authorization: Basic $(printf 'admin:%s' "$password" | base64 -w0)"

# POST or PUT; prints the new id (from Location) for a POST.
call() {
    curl -sS --fail --cacert "$dir/cert.pem" -H "$auth" -D "$dir/h" -o /dev/null -X "$1" \
        "$base$2" --data "$3"
    sed -n 's|^Location: .*/||p' "$dir/h" | tr -d '\r'
}

n=0
while [ $n -lt 100 ]; do
    call POST /turnServers "serverAddress=127.0.0.1:$port&username=alice&password=secret" >/dev/null
    call POST /coSpaces "name=soak-w-$n&uri=soak.w.$n" >>"$dir/ids"
    call POST /coSpaces "name=soak-call-$n&uri=soak.call.$n" >>"$dir/spaces"
    n=$((n + 1))
done

"$bin/soakgen" "$dir" 200 50 $((secs + 30)) >"$dir/gen.out" 2>&1 &
gen=$!
pids="$gen $pids"
i=0
while [ ! -f "$dir/ports" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -f "$dir/ports" ] || { echo "soak: soakgen did not start" >&2; cat "$dir/gen.out" >&2; exit 1; }
k=0
while read -r space; do
    c=$(call POST /calls "coSpace=$space")
    for line in $((2 * k + 1)) $((2 * k + 2)); do # endpoints 2k and 2k+1 (lines of ports)
        mport=$(sed -n "${line}p" "$dir/ports")
        call POST "/calls/$c/callLegs" "remoteParty=leg$line@soak.example.com&remoteMediaAddress=127.0.0.1:$mport" >>"$dir/legs"
    done
    k=$((k + 1))
done <"$dir/spaces"
while read -r leg; do # where each endpoint must send: the leg's relayed address
    i=0
    while [ $i -lt 100 ]; do
        curl -sS --cacert "$dir/cert.pem" -H "$auth" -o "$dir/leg.xml" "$base/callLegs/$leg"
        relay=$(sed -n 's|.*<relayedAddress>\([^<]*\)</relayedAddress><relayedPortNumber>\([0-9]*\)<.*|\1 \2|p' "$dir/leg.xml")
        [ -n "$relay" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    [ -n "$relay" ] || { echo "soak: leg $leg has no relayed address:" >&2; cat "$dir/leg.xml" >&2; exit 1; }
    echo "$relay" >>"$dir/relays.tmp"
done <"$dir/legs"
mv "$dir/relays.tmp" "$dir/relays"

{
    echo 'local ids = {'
    sed 's/.*/"&",/' "$dir/ids"
    echo '}'
    printf 'local auth = "%s"\n' "${auth#Authorization: }"
    printf 'local WRITES = %d\n' "${SOAK_WRITES:-3}"
    cat <<'EOF'
local n = 0
local form = "application/x-www-form-urlencoded"
request = function()
    n = n + 1
    local k = n % 10
    local h = { ["Authorization"] = auth }
    if k < WRITES then
        h["Content-Type"] = form
        return wrk.format("PUT", "/api/v1/coSpaces/" .. ids[math.random(#ids)], h,
                          "name=soak-" .. n)
    elseif k < 5 then
        return wrk.format("GET", "/api/v1/coSpaces?limit=20&offset=" .. (n % 10) * 20, h)
    elseif k < 6 then
        return wrk.format("GET", "/api/v1/coSpaces/" .. ids[math.random(#ids)], h)
    elseif k < 8 then
        return wrk.format("GET", "/api/v1/turnServers", h)
    elseif k < 9 then
        return wrk.format("GET", "/api/v1/callLegs?limit=10", h)
    end
    return wrk.format("GET", "/api/v1/system/status", h)
end
EOF
} >"$dir/mix.lua"

printf "soak: %d s in %d slices; 100 TURN servers, 200 legs at 50 datagrams/s each, wrk -c64\n" "$secs" "$slices"
printf "%5s %10s %9s %8s %8s %9s %9s %5s\n" slice requests "p99 ms" errors non2xx "RSS kB" "anon kB" fds
s=1
while [ $s -le $slices ]; do
    wrk -t2 -c64 -d"${slice}s" --latency -s "$dir/mix.lua" "https://127.0.0.1:$api" >"$dir/wrk.$s" 2>&1 &
    sleep $((slice / 2)) # RSS and descriptors in mid-slice, with all 64 connections open
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$daemon/status")
    anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$daemon/status")
    fds=$(ls "/proc/$daemon/fd" | wc -l)
    wait $!
    requests=$(awk '/requests in/ { print $1 }' "$dir/wrk.$s")
    p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub("us", "", v); v /= 1000 } else if (v ~ /ms$/) sub("ms", "", v); else if (v ~ /s$/) { sub("s", "", v); v *= 1000 } print v }' "$dir/wrk.$s")
    errors=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$dir/wrk.$s")
    non2xx=$(awk '/Non-2xx/ { print $5 }' "$dir/wrk.$s")
    printf "%5d %10s %9s %8s %8s %9s %9s %5s\n" "$s" "$requests" "$p99" "${errors:-0}" "${non2xx:-0}" "$rss" "$anon" "$fds"
    echo "$s ${requests:-0} ${p99:-0} ${errors:-0} ${non2xx:-0} $rss $fds" >>"$dir/slices"
    s=$((s + 1))
done

wait "$gen" || true
pids=$(echo "$pids" | sed "s/^$gen //")
cat "$dir/gen.out"
lost=$(sed -n 's/^soakgen: lost beyond the generator.s own drops: //p' "$dir/gen.out")
grep -q ' error ' "$dir/daemon.log" && { echo "soak: errors in the daemon's log:"; grep ' error ' "$dir/daemon.log" | sort | uniq -c | sort -rn | head; }

awk -v lost="${lost:-unknown}" '
{ n++; req += $2; p99[n] = $3; err += $4; bad += $5; rss[n] = $6; fds[n] = $7 }
END {
    ok = 1
    printf "requests %d, failed %d (socket errors %d, non-2xx %d)\n", req, err + bad, err, bad
    if (err + bad > 0) ok = 0
    for (i = 1; i <= n; i++) if (i <= n / 2) early += p99[i] / (n / 2); else late += p99[i] / (n - n / 2)
    printf "p99 mean of the first half of the slices %.2f ms, of the second half %.2f ms", early, late
    if (late >= 1.5 * early) { ok = 0; printf " (GREW BY HALF OR MORE)" }
    h = int(n / 2)
    for (i = h + 1; i <= n; i++) { if (rss[i] > rssmax) rssmax = rss[i]; if (fds[i] > fdsmax) fdsmax = fds[i] }
    printf "\nRSS %d -> %d kB (%+.1f %%), descriptors %d -> %d (%+.1f %%), from slice 1 to slice %d\n",
        rss[1], rss[n], 100 * (rss[n] - rss[1]) / rss[1], fds[1], fds[n], 100 * (fds[n] - fds[1]) / fds[1], n
    printf "over the later half: RSS %d -> at most %d kB (%+.1f %%), descriptors %d -> at most %d (%+.1f %%)",
        rss[h], rssmax, 100 * (rssmax - rss[h]) / rss[h], fds[h], fdsmax, 100 * (fdsmax - fds[h]) / fds[h]
    if (rssmax > 1.05 * rss[h] || fdsmax > 1.05 * fds[h]) { ok = 0; printf " (GREW 5 %% OR MORE)" }
    printf "\n"
    printf "media lost beyond the generator%ss own drops: %s\n", "\047", lost
    if (lost != "0") ok = 0
    print ok ? "soak: PASSED" : "soak: FAILED"
    exit !ok
}' "$dir/slices"
