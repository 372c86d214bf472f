# Sourced by scripts/test, scripts/demo and scripts/bench: installs what a fresh Debian or
# Ubuntu machine lacks (Redis server and tools, GNU readline's headers) and checks Swift.
ensure_deps() {
  local missing=()
  for tool in redis-server redis-cli redis-benchmark redis-check-aof; do
    command -v "$tool" >/dev/null 2>&1 || { missing+=(redis-server redis-tools); break; }
  done
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
  [ -f /usr/include/readline/readline.h ] || missing+=(libreadline-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "redkeep: installing ${missing[*]} (apt-get)" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "redkeep: need root to install ${missing[*]}; run: apt-get install ${missing[*]}" >&2
        return 1
      fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "redkeep: no apt-get here; install ${missing[*]} with your package manager" >&2
      return 1
    fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
    # Debian starts the packaged services; redkeep starts its own servers and wants the
    # default ports free.
    if command -v service >/dev/null 2>&1; then
      $sudo service redis-server stop >/dev/null 2>&1 || true
      $sudo service redis-sentinel stop >/dev/null 2>&1 || true
    fi
  fi
  if ! command -v swift >/dev/null 2>&1; then
    echo "redkeep: swift is not on PATH; install Swift 6.1 or later from swift.org" >&2
    return 1
  fi
}
