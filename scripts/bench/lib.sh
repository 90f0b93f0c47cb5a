# shellcheck shell=bash
# What the benchmark scripts in scripts/bench share: messages, the overall deadline, bounded
# waits, starting and stopping a hub, a service SAS token, heap figures, machine facts and
# verdicts. Sourced, not run. The sourcing script sets, before calling these:
#   BENCH_NAME (e.g. "mqtt bench"), ROOT, WORK, TIMEOUT, DEADLINE (epoch seconds),
#   STARTUP_TIMEOUT, STOP_TIMEOUT, VIA_LAUNCHER, DATA, HTTPS_PORT, MQTT_PORT, AMQP_PORT,
# and starts with HUB_PID= CHILD_PID= HUB_LOG= HUB_RUNS=0.

log() { printf '[%s %(%H:%M:%S)T] %s\n' "$BENCH_NAME" -1 "$*"; }
die() {
  printf '[%s] FAILED: %s\n' "$BENCH_NAME" "$*" >&2
  exit 1
}

# Seconds left before the overall deadline; fails when none are. Use as left=$(remaining) so
# that set -e stops the run.
remaining() {
  local left=$((DEADLINE - $(date +%s)))
  if ((left <= 0)); then
    printf '[%s] FAILED: overall timeout of %ss reached\n' "$BENCH_NAME" "$TIMEOUT" >&2
    return 1
  fi
  echo "$left"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Runs "timeout SECS CMD..." in the background and waits for it: a trapped INT/TERM interrupts
# wait at once, while a foreground child would delay the trap until it ends.
run_bounded() {
  local rc=0
  timeout "$@" &
  CHILD_PID=$!
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=
  return "$rc"
}

# The hub's JVM options as start_hub gives them (scripts/lib/hub-jvm.sh), for the printed figures.
hub_jvm_description() {
  # shellcheck source=scripts/lib/hub-jvm.sh
  source "$ROOT/scripts/lib/hub-jvm.sh"
  hub_jvm_options "$ROOT"
  echo "${HUB_JVM_OPTIONS[*]#@"$ROOT"/}"
}

# A port already in use would make us measure some other process.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts the hub in its own session/process group so that stop_hub reaches the launcher, the JVM
# and anything they spawn (embedded PostgreSQL). Sets HUB_PID, HUB_LOG and LAUNCH_MS.
start_hub() {
  local cmd
  if ((VIA_LAUNCHER)); then
    cmd=("$ROOT/scripts/herd" serve)
  else
    # What scripts/herd serve execs once its build check passes; keep the two in step.
    export HERD_CONFIG="${HERD_CONFIG:-$ROOT/conf/herd.json}"
    # shellcheck source=scripts/lib/hub-jvm.sh
    source "$ROOT/scripts/lib/hub-jvm.sh"
    hub_jvm_options "$ROOT"
    cmd=(java "${HUB_JVM_OPTIONS[@]}" "-Dlogback.configurationFile=$ROOT/conf/logback.xml"
      -jar "$ROOT/hub-server/target/hub-server.jar" serve)
  fi
  cmd+=(--data-dir "$DATA" --https-port "$HTTPS_PORT" --mqtt-port "$MQTT_PORT"
    --amqp-port "$AMQP_PORT")
  HUB_RUNS=$((HUB_RUNS + 1))
  HUB_LOG=$WORK/hub-$HUB_RUNS.log
  echo "+ ${cmd[*]}" >"$HUB_LOG"
  LAUNCH_MS=$(now_ms)
  setsid "${cmd[@]}" >>"$HUB_LOG" 2>&1 </dev/null &
  HUB_PID=$!
}

# Polls /health until 200; sets HEALTH_MS to the milliseconds since launch. Runs in this shell
# (not a $(...) subshell) so that die and signals act at once.
wait_health() {
  local limit=$(($(date +%s) + STARTUP_TIMEOUT)) code left
  while :; do
    code=$(curl -sk -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time 2 \
      "https://127.0.0.1:$HTTPS_PORT/health" || true)
    if [[ $code == 200 ]]; then
      HEALTH_MS=$(($(now_ms) - LAUNCH_MS))
      # scripts/herd prints this when it runs maven; such a start-up figure means nothing.
      ! grep -q '^herd: building' "$HUB_LOG" ||
        die "scripts/herd rebuilt the hub during start-up; run without --via-launcher"
      return 0
    fi
    kill -0 "$HUB_PID" 2>/dev/null || die "hub exited before /health answered 200"
    (($(date +%s) < limit)) || die "no 200 from /health within ${STARTUP_TIMEOUT}s"
    left=$(remaining)
    sleep 0.05
  done
}

# SIGTERM to the hub's process group, bounded wait, SIGKILL as a last resort.
stop_hub() {
  local pid=$HUB_PID start limit rc=0
  [[ -n $pid ]] || return 0
  start=$(now_ms)
  limit=$(($(date +%s) + STOP_TIMEOUT))
  kill -TERM -- "-$pid" 2>/dev/null || true
  while kill -0 -- "-$pid" 2>/dev/null && (($(date +%s) < limit)); do sleep 0.1; done
  if kill -0 -- "-$pid" 2>/dev/null; then
    log "hub did not stop within ${STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  HUB_PID=
  log "hub stopped in $(($(now_ms) - start)) ms (exit status $rc)"
}

# The hub JVM: setsid and scripts/herd exec into java, so normally HUB_PID itself. Sets HUB_JVM.
hub_jvm_pid() {
  HUB_JVM=$HUB_PID
  if [[ $(cat "/proc/$HUB_PID/comm" 2>/dev/null) != java ]]; then
    HUB_JVM=$(pgrep -x -P "$HUB_PID" java | head -n 1 || true)
  fi
  [[ -n $HUB_JVM ]] || die "cannot find the hub's JVM under pid $HUB_PID"
}

# Service SAS token for the iothubowner policy from $DATA/hub.json (wire §1.1).
sas_token() {
  local cs host policy key se hexkey sig
  cs=$(jq -r '.connectionStrings.iothubowner' "$DATA/hub.json")
  host=$(sed -n 's/.*HostName=\([^;]*\).*/\1/p' <<<"$cs")
  policy=$(sed -n 's/.*SharedAccessKeyName=\([^;]*\).*/\1/p' <<<"$cs")
  key=$(sed -n 's/.*SharedAccessKey=\([^;]*\).*/\1/p' <<<"$cs")
  se=$(($(date +%s) + 3600))
  hexkey=$(printf '%s' "$key" | base64 -d | xxd -p -c 256)
  sig=$(printf '%s\n%s' "$host" "$se" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)
  sig=${sig//+/%2B} sig=${sig//\//%2F} sig=${sig//=/%3D}
  printf 'SharedAccessSignature sr=%s&sig=%s&se=%s&skn=%s' "$host" "$sig" "$se" "$policy"
}

# Bytes in use by the heap from a jcmd GC.heap_info output: "used 123456K" on each heap line
# before Metaspace (one line for G1, one per generation for the other collectors).
heap_used_bytes() {
  awk '/Metaspace/ { exit }
    match($0, /used [0-9]+[KMG]/) {
      v = substr($0, RSTART + 5, RLENGTH - 6); u = substr($0, RSTART + RLENGTH - 1, 1)
      sum += v * (u == "K" ? 1024 : u == "M" ? 1048576 : 1073741824) }
    END { printf "%.0f", sum }' "$1"
}

# The heap a GC.heap_info file says is committed, in KB (G1: "garbage-first heap   total 65536K").
heap_committed_kb() {
  awk 'match($0, /heap +total [0-9]+K/) {
    v = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", v); print v; exit }' "$1"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# Percentage of all CPUs busy over one second, from /proc/stat.
cpu_busy_percent() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    busy = y[1] - x[1]; total = busy + y[2] - x[2]
    printf "%d", (total > 0 ? 100 * busy / total : 0) }'
}

# Prints PASS or MISS; $3 is ge (at least), le (at most) or lt (below).
verdict() {
  if awk -v v="$1" -v t="$2" -v op="$3" \
    'BEGIN { exit !(op == "ge" ? v >= t : op == "le" ? v <= t : v < t) }'; then
    echo PASS
  else
    echo MISS
  fi
}

# Sets CPU_MODEL, CORES, MEM_GIB, KERNEL, JAVA_VERSION and MACHINE (one line for the results).
machine_facts() {
  CPU_MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
  CORES=$(nproc)
  MEM_GIB=$(free -g | awk '/^Mem:/ { print $2 }')
  KERNEL=$(uname -sr)
  JAVA_VERSION=$(java -version 2>&1 | head -n 1)
  MACHINE="${CPU_MODEL:-unknown CPU}, $CORES cores, $MEM_GIB GiB, $KERNEL, $JAVA_VERSION"
}

# The machine block at the head of a run.
print_machine() {
  echo "machine : CPU ${CPU_MODEL:-unknown} | cores $CORES | memory $MEM_GIB GiB | kernel $KERNEL"
  echo "java    : $(java -version 2>&1 | paste -sd '|' | sed 's/|/ | /g')"
}
