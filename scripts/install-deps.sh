#!/bin/sh
# Installs the Debian 12 packages callbridge needs, only when something is missing.
# Usage: scripts/install-deps.sh [build|test|bench]   (default: build)
# Idempotent and non-interactive: libraries are checked with pkg-config, tools with command -v;
# when everything is present it prints nothing and changes nothing. Uses sudo when not root.
set -eu

what=${1:-build}
pkgs=""

need_pc() { # pkg-config module, Debian package
    pkg-config --exists "$1" 2>/dev/null || pkgs="$pkgs $2"
}
need_cmd() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 || pkgs="$pkgs $2"
}

need_cmd cc gcc
need_cmd make make
need_cmd pkg-config pkg-config
if command -v pkg-config >/dev/null 2>&1; then
    need_pc libmicrohttpd libmicrohttpd-dev
    need_pc libxml-2.0 libxml2-dev
    need_pc sqlite3 libsqlite3-dev
    need_pc openssl libssl-dev
    need_pc libcurl libcurl4-openssl-dev
    need_pc check check
    need_pc libidn libidn-dev
    need_pc jansson libjansson-dev
    need_pc libsrtp2 libsrtp2-dev
    need_pc ldap libldap-dev # LDAP syncs (api/ldap_sync.c)
    need_pc libpq libpq-dev  # the PostgreSQL store (store/pg/)
else
    pkgs="$pkgs libmicrohttpd-dev libxml2-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev check"
    pkgs="$pkgs libidn-dev libjansson-dev libsrtp2-dev libldap-dev libpq-dev"
fi
case "$what" in
test)
    need_cmd curl curl
    need_cmd npm npm
    need_cmd ansible-playbook ansible-core
    need_cmd turnserver coturn
    need_cmd gst-launch-1.0 "gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good"
    need_pc vpx libvpx-dev   # rtcpeer --codecs: real VP8 and Opus for the browsers it meets
    need_pc opus libopus-dev
    need_cmd openssl openssl
    need_cmd promtool prometheus # promtool check metrics validates /metrics
    need_cmd systemd-analyze systemd # verifies scripts/callbridged.service
    need_cmd clang clang             # make fuzz: libFuzzer, with its runtime below
    need_cmd mandoc mandoc           # make man-check: mandoc -T lint
    # WebRTC clients the tests start: headless Chromium, GStreamer webrtcbin (python3-gst)
    [ -x /usr/lib/chromium/chromium ] || pkgs="$pkgs chromium"
    /usr/bin/python3 -c 'import gi; gi.require_version("GstWebRTC", "1.0")' 2>/dev/null ||
        pkgs="$pkgs python3-gi python3-gst-1.0 gir1.2-gst-plugins-bad-1.0"
    gst-inspect-1.0 webrtcbin >/dev/null 2>&1 || pkgs="$pkgs gstreamer1.0-plugins-bad"
    # tests/fixtures/srtp_ref.py: an SRTP reference independent of libsrtp2
    /usr/bin/python3 -c 'import cryptography' 2>/dev/null || pkgs="$pkgs python3-cryptography"
    gst-inspect-1.0 nicesrc >/dev/null 2>&1 || pkgs="$pkgs gstreamer1.0-nice"
    gst-inspect-1.0 vp8enc >/dev/null 2>&1 || pkgs="$pkgs gstreamer1.0-plugins-good"
    need_cmd man man-db              # make man-check: man --warnings (groff)
    # it_ldap: a real directory server and the client that loads its entries
    [ -x /usr/sbin/slapd ] || pkgs="$pkgs slapd"
    need_cmd ldapadd ldap-utils
    # suite pg and the PostgreSQL runs: servers started by the tests (tests/pg_server.c,
    # scripts/pg-test-server.sh); pg_trgm (schema/pg/0003) ships in postgresql-15 itself
    [ -x /usr/lib/postgresql/15/bin/postgres ] || pkgs="$pkgs postgresql"
    if ! command -v clang >/dev/null 2>&1 ||
        [ ! -e "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
        pkgs="$pkgs libclang-rt-14-dev"
    fi
    ;;
bench)
    need_cmd wrk wrk
    need_cmd ss iproute2
    need_cmd turnserver coturn
    need_cmd curl curl
    need_cmd janus janus # the WebRTC benchmark's anchor (scripts/bench/webrtc.sh)
    # scripts/bench/cluster.sh starts its own PostgreSQL (scripts/pg-test-server.sh) and copies
    # coSpaces in SQL on both backends
    [ -x /usr/lib/postgresql/15/bin/postgres ] || pkgs="$pkgs postgresql"
    need_cmd sqlite3 sqlite3
    [ -x /usr/lib/chromium/chromium ] || pkgs="$pkgs chromium"
    need_pc libsrtp2 libsrtp2-dev
    need_pc vpx libvpx-dev
    need_pc opus libopus-dev
    ;;
build) ;;
*)
    echo "usage: $0 [build|test|bench]" >&2
    exit 2
    ;;
esac

[ -z "$pkgs" ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing$pkgs" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# Packages such as prometheus start their daemon on install unless policy-rc.d says no; we want
# their tools, not a server on port 9090, so say no for the length of the install.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >&2
