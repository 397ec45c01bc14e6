# Shared by scripts/spark-cluster and scripts/sail-server (sourced, not run): free ports,
# bounded waits that show the logs' tails on failure, and stopping processes by their PID
# files (`NAME.pid` and `NAME.log` in the run directory).

usage() {
  echo "usage: $(basename "$0") start|stop DIR" >&2
  exit 2
}

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# A TCP port on 127.0.0.1 that is free now (the kernel's pick for port 0).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Prints the last lines of every log in DIR, then stops what was started and fails.
fail_with_logs() {
  local dir=$1
  shift
  echo "$(basename "$0"): $*" >&2
  local log
  for log in "$dir"/*.log; do
    [ -f "$log" ] || continue
    echo "--- last lines of $log" >&2
    tail -n 20 "$log" >&2
  done
  stop_all "$dir" $(cd "$dir" && ls -- *.pid 2>/dev/null | sed 's/\.pid$//') >/dev/null 2>&1 || true
  exit 1
}

alive() {
  [ -f "$1/$2.pid" ] && kill -0 "$(cat "$1/$2.pid")" 2>/dev/null
}

# Waits up to SECONDS until NAME's log contains TEXT; fails if NAME exits first.
wait_for_log() {
  local dir=$1 name=$2 text=$3 seconds=$4 deadline=$((SECONDS + $4))
  until grep -q "$text" "$dir/$name.log" 2>/dev/null; do
    alive "$dir" "$name" || fail_with_logs "$dir" "$name exited before it was ready"
    [ $SECONDS -lt $deadline ] || fail_with_logs "$dir" "$name not ready after ${seconds}s"
    sleep 0.2
  done
}

# Waits up to SECONDS until 127.0.0.1:PORT accepts connections; fails if NAME exits first.
wait_for_port() {
  local dir=$1 name=$2 port=$3 seconds=$4 deadline=$((SECONDS + $4))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    alive "$dir" "$name" || fail_with_logs "$dir" "$name exited before it listened on $port"
    [ $SECONDS -lt $deadline ] || fail_with_logs "$dir" "$name not listening on $port after ${seconds}s"
    sleep 0.1
  done
}

any_alive() {
  local p
  for p in "$@"; do
    kill -0 "$p" 2>/dev/null && return 0
  done
  return 1
}

# Stops each NAME of DIR by its PID (and the children it started, such as a worker's
# executors): TERM, up to 20 s of waiting, then KILL. Removes the PID files.
stop_all() {
  local dir=$1
  shift
  local name pid pids
  for name in "$@"; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      pids="$pid $(pgrep -P "$pid" | tr "\n" " " || true)"
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
      local deadline=$((SECONDS + 20))
      # shellcheck disable=SC2086
      while any_alive $pids && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}
