#!/usr/bin/env bash
# swarm_bench.sh — issue 4's benchmark: replicating one dataset version from 1 origin to
# K sites, fedswarm's swarm vs the client–server way ESGF sites replicate today (nginx
# serving the origin's DRS tree, each site fetching every file with curl and checking
# SHA-256), against the lower bound max(F/U_origin, K·F/(U_origin + ΣU_sites)).
#
# With root: one network namespace per site, joined by veth pairs to a bridge, each
# site's uplink capped with `tc … tbf` (RATE, default 200mbit). Without root: says so and
# runs only the uncapped 1 → 1 loopback comparison.
#
# Usage: bench/swarm_bench.sh [--size-mib N] [--files N] [--rate 200mbit] [--ks "1 2 4 8"]
#                             [--fedswarm PATH] [--keep] [--http-only] [--swarm-only] [--loopback-only]
#                             [--timeline]
# --keep leaves the work directory (node homes, logs, each site's `transfers --all --json` at the end
# as n<i>.transfers.json, the origin's as n0.transfers.json, and the per-second traces); FS_LOG_LEVEL
# sets the nodes' log level (default warn); FS_TIMEOUT bounds one replication (seconds,
# default 3600). --timeline also prints, per K, each second's upload of the origin and the
# sites and the machine's CPU use.
#
# Next to the wall time of each swarm run the table gives the CPU seconds (user + system,
# from /proc/<pid>/stat between the start and the end of the clock) of the origin node and
# of the site nodes (sum and largest), the CPU seconds the whole machine spent meanwhile
# (/proc/stat: the kernel's network path, the bench itself and anything else running)
# against what its cores could give (cores × wall), and the 1-minute load average
# before the run: wall times on a shared machine are only comparable with these beside
# them. A second table says where the time went: how many copies of the version the
# origin's uplink carried (1.0 would be ideal; the bound assumes it), how busy the
# origin's and the sites' uplinks were (bytes sent by each namespace, Ethernet frames
# included, over wall × rate), when the origin had sent one copy, and when the uplinks
# fell silent (the rest, until the last site placed the version, is verification,
# fsync and placement).
# Prints Markdown tables. Installs nginx-light (Debian) if missing.
set -euo pipefail

SIZE_MIB=1024
FILES=4
RATE=200mbit
KS="1 2 4 8"
FEDSWARM=""
KEEP=0
HTTP_ONLY=0
SWARM_ONLY=0
LOOPBACK_ONLY=0
TIMELINE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --ks) KS=$2; shift 2 ;;
    --fedswarm) FEDSWARM=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --http-only) HTTP_ONLY=1; shift ;;
    --swarm-only) SWARM_ONLY=1; shift ;;  # skips the HTTP baseline (repeat runs of the swarm)
    --loopback-only) LOOPBACK_ONLY=1; shift ;;
    --timeline) TIMELINE=1; shift ;;
    *) echo "swarm_bench: unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
HERE=$(cd "$(dirname "$0")/.." && pwd)
FEDSWARM=${FEDSWARM:-$HERE/build/release/tools/fedswarm}
[ -x "$FEDSWARM" ] || { echo "swarm_bench: $FEDSWARM not found; build the release preset first" >&2; exit 1; }

missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v bc >/dev/null || missing+=(bc)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "swarm_bench: installing Debian packages for the baseline: ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx)

WORK=$(mktemp -d /tmp/fedswarm-swarm-bench.XXXXXX)
NS_PREFIX=fsb$$
BRIDGE=fsbr$$
NS_COUNT=0
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for f in "$WORK"/*/nginx.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  pkill -f -- "--home $WORK/" 2>/dev/null || true  # nodes of a run interrupted inside $(…)
  pkill -f -- "$WORK/fs-trace-" 2>/dev/null || true  # its CPU and uplink sampler
  wait 2>/dev/null || true
  for ((i = 0; i < NS_COUNT; i++)); do ip netns del "${NS_PREFIX}_$i" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then echo "swarm_bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
# a / b with `digits` decimals, or "—" when either is 0 (a part that did not run).
ratio() { if [ "$(echo "$1 == 0 || $2 == 0" | bc -l)" = 1 ]; then echo "—"; else printf "%.${3:-2}f" "$(echo "$1 / $2" | bc -l)"; fi; }
elapsed() { echo "$2 - $1" | bc -l; }

# --- the dataset: one CMIP6 version of FILES files, SIZE_MIB in all --------------------
DATASET=CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr
VERSION=v20190101
REL=CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/$VERSION
TREE=$WORK/origin-tree
mkdir -p "$TREE/$REL"
per_file=$((SIZE_MIB / FILES))
for ((f = 0; f < FILES; f++)); do
  y0=$((1850 + 50 * f)); y1=$((y0 + 49))
  name=tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_${y0}01-${y1}12.nc
  head -c $((per_file * 1024 * 1024)) /dev/urandom > "$TREE/$REL/$name"
done
(cd "$TREE/$REL" && sha256sum -- *.nc > "$WORK/SHA256SUMS")
F_BYTES=$(du -bc "$TREE/$REL"/*.nc | tail -1 | cut -f1)

rate_bytes_per_s() {  # "200mbit" -> bytes/s
  local r=${1,,}
  case "$r" in
    *gbit) echo $(( ${r%gbit} * 1000000000 / 8 )) ;;
    *mbit) echo $(( ${r%mbit} * 1000000 / 8 )) ;;
    *kbit) echo $(( ${r%kbit} * 1000 / 8 )) ;;
    *) echo "$r" ;;
  esac
}

# --- network: namespace i has 10.78.<NET>.(i+1); uplink capped -------------------------
setup_net() {  # $1 = number of namespaces (origin + sites)
  ip link add "$BRIDGE" type bridge
  ip link set "$BRIDGE" up
  for ((i = 0; i < $1; i++)); do
    local ns=${NS_PREFIX}_$i
    ip netns add "$ns"
    NS_COUNT=$((i + 1))
    ip link add "v${NS_PREFIX}_$i" type veth peer name eth0 netns "$ns"
    ip link set "v${NS_PREFIX}_$i" master "$BRIDGE" up
    ip -n "$ns" addr add "10.78.0.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$RATE" burst 512kb latency 100ms
  done
}
in_ns() { local i=$1; shift; ip netns exec "${NS_PREFIX}_$i" "$@"; }

# --- HTTP baseline: nginx at the origin, curl + sha256sum at each site ---------------------
nginx_conf() {  # $1 = listen address, $2 = dir
  mkdir -p "$2/tmp"
  cat > "$2/nginx.conf" <<EOF
user root;
worker_processes 2;
pid $2/nginx.pid;
error_log $2/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $2/tmp; proxy_temp_path $2/tmp; fastcgi_temp_path $2/tmp; uwsgi_temp_path $2/tmp; scgi_temp_path $2/tmp;
  server { listen $1; root $TREE; location / { autoindex off; } }
}
EOF
}

http_site_fetch() {  # $1 = url base, $2 = dest dir
  mkdir -p "$2"
  for f in "$TREE/$REL"/*.nc; do
    curl -sf -o "$2/$(basename "$f")" "$1/$REL/$(basename "$f")" || { echo "curl $1/$REL/$(basename "$f") failed" >&2; return 1; }
  done
  (cd "$2" && sha256sum -c --quiet "$WORK/SHA256SUMS")
}

http_run() {  # $1 = K; namespaces 0..K exist
  trap - EXIT  # runs in $(…): the main shell tears down, not this subshell
  local dir=$WORK/http-$1
  nginx_conf "10.78.0.1:8080" "$dir"
  in_ns 0 "$NGINX" -c "$dir/nginx.conf"
  sleep 0.3
  local t0 pids=()
  t0=$(now)
  for ((s = 1; s <= $1; s++)); do
    in_ns "$s" bash -c "$(declare -f http_site_fetch); TREE='$TREE' REL='$REL' WORK='$WORK' http_site_fetch http://10.78.0.1:8080 '$dir/site$s'" &
    pids+=($!)
  done
  local ok=1
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  local t1
  t1=$(now)
  kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  rm -rf "$dir"/site*
  [ "$ok" = 1 ] || { echo "swarm_bench: HTTP fetch or checksum failed at K=$1" >&2; exit 1; }
  elapsed "$t0" "$t1"
}

# --- fedswarm: an origin node and K subscribing nodes -------------------------------------
fs() { "$FEDSWARM" "$@"; }
# `transfers --json` on stdin -> the paused transfers and their last errors (empty if none).
PAUSED_PY='import json,sys
d=json.load(sys.stdin)
print("; ".join(t["instance_id"]+": "+t.get("last_error","") for t in d.get("transfers",[]) if t.get("state")=="paused"))'
# Several `transfers --all --json` answers on stdin -> "verify local hash bytes_received".
STATS_PY='import json,sys
dec=json.JSONDecoder(); text=sys.stdin.read(); pos=0; v=l=h=b=0
while True:
    while pos < len(text) and text[pos].isspace(): pos += 1
    if pos >= len(text): break
    d, pos = dec.raw_decode(text, pos)
    c = d.get("counters", {}); v += c.get("verify_failures", 0); l += c.get("local_faults", 0); h += c.get("hash_failures", 0)
    b += sum(t.get("bytes_downloaded", 0) for t in d.get("transfers", []))
print(v, l, h, b)'
# Samples, every $2 seconds until SIGTERM (and once more then), the bytes each node's
# namespace sent (rx_bytes of the host end of its veth), each node's CPU ticks and the
# machine's: "time (tx utime stime)... busy idle load1" per line. Args: file interval
# pid:iface...
SAMPLER_PY='import os,signal,sys,time
out=open(sys.argv[1],"w"); iv=float(sys.argv[2]); nodes=[a.split(":") for a in sys.argv[3:]]
def num(path):
    try:
        with open(path) as f: return int(f.read())
    except (OSError,ValueError): return 0
def cpu(pid):
    try:
        with open("/proc/%s/stat" % pid) as f: s=f.read()
        s=s[s.rindex(")")+2:].split(); return s[11]+" "+s[12]
    except (OSError,ValueError,IndexError): return "0 0"
def row():
    with open("/proc/stat") as f: c=[int(x) for x in f.readline().split()[1:9]]
    with open("/proc/loadavg") as f: load=f.read().split()[0]
    cols=["%.3f" % time.time()]
    for pid,iface in nodes: cols.append("%d %s" % (num("/sys/class/net/%s/statistics/rx_bytes" % iface), cpu(pid)))
    cols.append("%d %d %s" % (c[0]+c[1]+c[2]+c[5]+c[6]+c[7], c[3]+c[4], load))
    out.write(" ".join(cols)+"\n"); out.flush()
def stop(*_):
    row(); os._exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    row(); time.sleep(iv)'
# A trace of SAMPLER_PY (origin first, then the K sites) -> one line for the tables, and
# with $7 = 1 a per-second timeline on stderr. Args: trace F_bytes U_bytes_per_s K
# placed_times (seconds after the clock started, space-separated) timeline.
TRACE_PY='import os,sys
rows=[[float(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
F=float(sys.argv[2]); U=float(sys.argv[3]); k=int(sys.argv[4]); placed=[float(x) for x in sys.argv[5].split()]
hz=os.sysconf("SC_CLK_TCK"); cores=os.cpu_count(); a,b=rows[0],rows[-1]; wall=b[0]-a[0]
tx=lambda r,i: r[1+3*i]
cpu=lambda r,i: (r[2+3*i]+r[3+3*i])/hz
busy=lambda r: r[1+3*(k+1)]/hz
used=[cpu(b,i)-cpu(a,i) for i in range(k+1)]
sites=used[1:]
sent=[tx(b,i)-tx(a,i) for i in range(k+1)]
t_copy=next((r[0]-a[0] for r in rows if tx(r,0)-tx(a,0) >= F), float("nan"))
def first_upload(i):
    return next((r[0]-a[0] for r in rows if tx(r,i)-tx(a,i) >= 4<<20), float("nan"))
ups=sorted(first_upload(i) for i in range(1,k+1))
# The payload is across when the uplinks fall silent (< 1 % of one uplink in all).
wire_end=max((r[0]-a[0] for p,r in zip(rows,rows[1:]) if r[0] > p[0] and
              sum(tx(r,i)-tx(p,i) for i in range(k+1))/(r[0]-p[0]) > U/100), default=float("nan"))
print("%.1f %.1f %.1f %.1f %.0f %.2f %.2f %.2f %.1f %.1f %.1f %.1f %.1f %.1f %.2f" % (
    used[0], sum(sites), max(sites), busy(b)-busy(a), cores*wall, sent[0]/F, sent[0]/(U*wall),
    sum(sent[1:])/(k*U*wall), t_copy, ups[0], ups[len(ups)//2], wire_end, min(placed), max(placed), a[3+3*(k+1)]))
if sys.argv[6] == "1":
    sys.stderr.write("\nK = %d, per second: origin upload MB/s | sites upload MB/s (sum) | CPU busy (all cores %%) | sites placed\n" % k)
    for j in range(1,len(rows)):
        p,r=rows[j-1],rows[j]; dt=r[0]-p[0]
        if dt <= 0: continue
        done=sum(1 for t in placed if t <= r[0]-a[0])
        sys.stderr.write("%6.1f s %7.1f %7.1f %5.0f %%  %d/%d\n" % (r[0]-a[0], (tx(r,0)-tx(p,0))/dt/1e6,
            sum(tx(r,i)-tx(p,i) for i in range(1,k+1))/dt/1e6, 100*(busy(r)-busy(p))/dt/cores, done, k))'

fedswarm_run() {  # $1 = K, $2 = address prefix ("10.78.0." or "127.0.77."), $3 = use namespaces (1/0)
  trap - EXIT  # runs in $(…): the main shell tears down, not this subshell
  local k=$1 pre=$2 netns=$3 dir=$WORK/fs-$1-$3
  mkdir -p "$dir"
  fs federation init --dir "$dir/auth" --name bench >/dev/null
  for ((i = 0; i <= k; i++)); do
    local tier=1
    [ "$i" = 0 ] && tier=2
    fs --home "$dir/n$i" init --site "s$i" --tier "$tier" --listen "$pre$((i + 1)):7400" --swarm-port 7401 >/dev/null
    fs federation add-node --dir "$dir/auth" --from-home "$dir/n$i" >/dev/null
  done
  fs federation grant --dir "$dir/auth" --from-home "$dir/n0" --project CMIP6 --institution IPSL >/dev/null
  fs federation roster --dir "$dir/auth" -o "$dir/roster.fsr" >/dev/null
  for ((i = 0; i <= k; i++)); do fs --home "$dir/n$i" federation import "$dir/roster.fsr" >/dev/null; done
  fs --home "$dir/n0" publish "$TREE" >/dev/null
  for ((i = 0; i <= k; i++)); do
    # `ip netns exec` execs, so $! is the node itself; its stdout must not be the pipe of
    # the $(…) this function runs in, or the caller would wait for the node to exit.
    if [ "$netns" = 1 ]; then
      ip netns exec "${NS_PREFIX}_$i" "$FEDSWARM" --home "$dir/n$i" node run --log-level "${FS_LOG_LEVEL:-warn}" >/dev/null 2>"$dir/n$i.log" &
    else
      "$FEDSWARM" --home "$dir/n$i" node run --log-level "${FS_LOG_LEVEL:-warn}" >/dev/null 2>"$dir/n$i.log" &
    fi
    PIDS+=($!)
  done
  # Like the HTTP sites, which are handed the file list, every site knows the version
  # (its manifest arrived by gossip) before the clock starts; replication starts when
  # the sites subscribe.
  local deadline=$(( $(date +%s) + 120 ))
  for ((i = 1; i <= k; i++)); do
    until fs --home "$dir/n$i" show "$DATASET.$VERSION" --no-files >/dev/null 2>&1; do
      [ "$(date +%s)" -lt "$deadline" ] || { echo "swarm_bench: site $i never learnt of the version; logs in $dir" >&2; exit 1; }
      sleep 0.1
    done
  done
  # …and the origin is seeding (a first start hash-checks its copy once).
  until fs --home "$dir/n0" transfers --all --json 2>/dev/null | grep -q '"seeding"'; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "swarm_bench: the origin never started seeding; logs in $dir" >&2; exit 1; }
    sleep 0.1
  done
  # Per-second samples of every node's CPU and uplink from the start of the clock.
  local probes=() trace=$WORK/fs-trace-$k-$netns sampler
  for ((i = 0; i <= k; i++)); do
    if [ "$netns" = 1 ]; then probes+=("${PIDS[$i]}:v${NS_PREFIX}_$i"); else probes+=("${PIDS[$i]}:-"); fi
  done
  /usr/bin/python3 -c "$SAMPLER_PY" "$trace" 1 "${probes[@]}" &
  sampler=$!
  until [ -s "$trace" ]; do sleep 0.01; done
  local t0 subs=() placed=()
  t0=$(now)
  for ((i = 1; i <= k; i++)); do
    fs --home "$dir/n$i" subscribe add "source_id=IPSL-CM6A-LR" --name bench >/dev/null &
    subs+=($!)
  done
  for p in "${subs[@]}"; do wait "$p"; done
  # A site holds a copy when the version directory appears in its DRS tree: placement
  # is an atomic rename after every file verified.
  deadline=$(( $(date +%s) + ${FS_TIMEOUT:-3600} ))
  local next_check=$(( $(date +%s) + 2 ))
  while :; do
    local done_sites=0
    for ((i = 1; i <= k; i++)); do
      [ -d "$dir/n$i/data/$REL" ] || continue
      done_sites=$((done_sites + 1))
      [ -n "${placed[$i]:-}" ] || placed[i]=$(elapsed "$t0" "$(now)")
    done
    [ "$done_sites" = "$k" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { echo "swarm_bench: fedswarm K=$k did not finish in ${FS_TIMEOUT:-3600} s; logs in $dir" >&2; exit 1; }
    # A site whose transfer paused will never place the version: say so now, not at the timeout.
    if [ "$(date +%s)" -ge "$next_check" ]; then
      next_check=$(( $(date +%s) + 2 ))
      for ((i = 1; i <= k; i++)); do
        [ -d "$dir/n$i/data/$REL" ] && continue
        local why
        why=$(fs --home "$dir/n$i" transfers --json 2>/dev/null | /usr/bin/python3 -c "$PAUSED_PY" 2>/dev/null || true)
        [ -z "$why" ] || { echo "swarm_bench: fedswarm K=$k: site $i paused its transfer and will never place the version: $why; logs in $dir" >&2; exit 1; }
      done
    fi
    sleep 0.05
  done
  local t1
  t1=$(now)
  kill -TERM "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  echo "${placed[*]}" > "$WORK/fs-placed-$k-$netns"
  # Verification failures of every site (the publisher's mismatches / local faults
  # re-checked), hash failures and payload received, for the table.
  for ((i = 1; i <= k; i++)); do fs --home "$dir/n$i" transfers --all --json 2>/dev/null | tee "$dir/n$i.transfers.json" || true; done |
    /usr/bin/python3 -c "$STATS_PY" > "$WORK/fs-stats-$k-$netns" 2>/dev/null || echo "? ? ? 0" > "$WORK/fs-stats-$k-$netns"
  # The origin's counters (pieces it suggested, uploads) for --keep.
  fs --home "$dir/n0" transfers --all --json > "$dir/n0.transfers.json" 2>/dev/null || true
  for ((i = 1; i <= k; i++)); do (cd "$dir/n$i/data/$REL" && sha256sum -c --quiet "$WORK/SHA256SUMS") ||
    { echo "swarm_bench: site $i holds a copy that does not match" >&2; exit 1; }; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  [ "$KEEP" = 1 ] || rm -rf "$dir"
  elapsed "$t0" "$t1"
}

# --- runs ------------------------------------------------------------------------------------
echo
echo "## Replicating one dataset version: fedswarm swarm vs nginx + curl + sha256sum"
echo
echo "command: \`bench/swarm_bench.sh --size-mib $SIZE_MIB --files $FILES --rate $RATE --ks \"$KS\"\`"
echo "dataset: $FILES files, $(echo "$F_BYTES / 1048576" | bc) MiB"
echo

if [ "$LOOPBACK_ONLY" = 1 ]; then
  echo "--loopback-only: the capped namespace runs are skipped."
elif [ "$(id -u)" = 0 ]; then
  MAXK=0
  for k in $KS; do [ "$k" -gt "$MAXK" ] && MAXK=$k; done
  setup_net $((MAXK + 1))
  U=$(rate_bytes_per_s "$RATE")
  echo "Network namespaces joined by veth pairs and a bridge; every site's uplink capped at $RATE (tc tbf)."
  echo
  echo "| K sites | lower bound | fedswarm | fedswarm / bound | HTTP (nginx → curl) | HTTP / fedswarm | CPU s origin | CPU s sites (sum / max) | CPU s machine / (cores × wall) | load (1 min) before | verify failures / local faults / hash failures | received / (K × size) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  WHERE=()
  for k in $KS; do
    bound=$(echo "a = $F_BYTES / $U; b = $k * $F_BYTES / ($U * ($k + 1)); if (a > b) a else b" | bc -l)
    t_fs=0
    [ "$HTTP_ONLY" = 1 ] || t_fs=$(fedswarm_run "$k" "10.78.0." 1)
    t_http=0
    [ "$SWARM_ONLY" = 1 ] || t_http=$(http_run "$k")
    n_verify="—"; n_local="—"; n_hash="—"; n_bytes=0
    [ -f "$WORK/fs-stats-$k-1" ] && read -r n_verify n_local n_hash n_bytes < "$WORK/fs-stats-$k-1"
    cpu_cols="— | — | — | $(cut -d' ' -f1 /proc/loadavg)"
    if [ -f "$WORK/fs-trace-$k-1" ]; then
      read -r c_origin c_sites c_max c_machine c_cap o_copies o_util s_util t_copy up_first up_median wire_end pl_first pl_last load0 < <(
        /usr/bin/python3 -c "$TRACE_PY" "$WORK/fs-trace-$k-1" "$F_BYTES" "$U" "$k" "$(cat "$WORK/fs-placed-$k-1")" "$TIMELINE" \
          2>>"$WORK/timelines")
      cpu_cols="$c_origin | $c_sites / $c_max | $c_machine / $c_cap | $load0"
      WHERE+=("| $k | $o_copies | $o_util | $s_util | $t_copy s | $up_first / $up_median s | $wire_end s ($(ratio "$wire_end" "$bound")) | $pl_first / $pl_last s |")
    fi
    printf "| %d | %.1f s | %.1f s | %s | %.1f s | %s× | %s | %s / %s / %s | %s |\n" "$k" "$bound" "$t_fs" "$(ratio "$t_fs" "$bound")" \
      "$t_http" "$(ratio "$t_http" "$t_fs" 1)" "$cpu_cols" "$n_verify" "$n_local" "$n_hash" "$(ratio "$n_bytes" "$((k * F_BYTES))")"
  done
  if [ ${#WHERE[@]} -gt 0 ]; then
    echo
    echo "Where the swarm's time went (uplink bytes are Ethernet frames: at most ~95 % of them is payload):"
    echo
    echo "| K sites | origin sent / size | origin uplink busy | sites' uplinks busy | origin had sent one copy at | sites start uploading (first / median) | last payload on the wire (/ bound) | sites placed (first / last) |"
    echo "|---|---|---|---|---|---|---|---|"
    printf "%s\n" "${WHERE[@]}"
  fi
  [ "$TIMELINE" = 1 ] && [ -f "$WORK/timelines" ] && cat "$WORK/timelines"
  echo
  echo "Targets: fedswarm ≤ 1.3 × the bound at K = 8 (≥ 6× faster than HTTP)."
else
  echo "Not root: network namespaces need root, so only the loopback comparison runs."
fi

# 1 → 1 uncapped on loopback.
dir=$WORK/http-loop
nginx_conf "127.0.76.1:8080" "$dir"
"$NGINX" -c "$dir/nginx.conf"
sleep 0.3
t0=$(now)
TREE=$TREE REL=$REL WORK=$WORK http_site_fetch http://127.0.76.1:8080 "$dir/site"
t1=$(now)
kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
t_http=$(elapsed "$t0" "$t1")
t_fs=0
[ "$HTTP_ONLY" = 1 ] || t_fs=$(fedswarm_run 1 "127.0.77." 0)
echo
echo "| 1 → 1 on loopback, uncapped | time | throughput |"
echo "|---|---|---|"
printf "| nginx + curl + sha256sum | %.2f s | %.0f MB/s |\n" "$t_http" "$(echo "$F_BYTES / $t_http / 1000000" | bc -l)"
printf "| fedswarm (swarm, verified, placed) | %.2f s | %s MB/s |\n" "$t_fs" "$(ratio "$F_BYTES" "$(echo "$t_fs * 1000000" | bc -l)" 0)"
printf "| fedswarm / HTTP throughput | %s× | target ≥ 0.8× |\n" "$(ratio "$t_http" "$t_fs")"
