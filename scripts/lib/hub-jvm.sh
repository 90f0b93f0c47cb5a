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
  # shellcheck disable=SC2206 # word splitting of the options is intended
  HUB_JVM_OPTIONS+=(${HERD_JAVA_OPTS:-})
}
