# shellcheck shell=bash
# The JVM options of the hub, shared by scripts/herd serve and the benchmarks' start_hub: the file
# conf/jvm.options, the native-heap trim when this JVM supports it, then HERD_JAVA_OPTS.
# Usage: hub_jvm_options ROOT; sets the array HUB_JVM_OPTIONS.
hub_jvm_options() {
  local root=$1
  HUB_JVM_OPTIONS=("@$root/conf/jvm.options")
  if java -XX:TrimNativeHeapInterval=5000 -version >/dev/null 2>&1; then
    HUB_JVM_OPTIONS+=(-XX:TrimNativeHeapInterval=5000)
  fi
  # Split on blanks only: a pattern such as -Xlog:gc* is an option, not a file name glob.
  local extra=()
  read -r -a extra <<<"${HERD_JAVA_OPTS:-}"
  HUB_JVM_OPTIONS+=("${extra[@]}")
}
