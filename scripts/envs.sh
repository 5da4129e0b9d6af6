# Sourced by scripts/setup, scripts/with-ha and scripts/test: the test environments, where they
# live, and how a command enters one. Not executable on its own.
#
#   oldest  HA 2025.4.4 on Python 3.13: .venv (requirements_test.txt, requirements_dev.txt,
#           requirements_bench.txt), on the host.
#   newest  HA 2026.10.4, the newest pytest-homeassistant-custom-component (0.13.375), on
#           Python 3.14 (requirements_test_newest.txt). Its stack test starts HA 2026.11.0 from
#           the `stack` venv (requirements_stack_newest.txt): the plugin cannot import with
#           2026.11, so that HA only ever runs as a subprocess of a test.
#
# Python >= 3.14.2 comes from the host when it has one (pyenv, python3.14 on PATH): then both
# Python 3.14 venvs are .envs/venv-newest and .envs/venv-stack in the checkout. Otherwise it comes
# from a minimal Debian forky root made with debootstrap (CALLSTACK_PY314_ROOT, default
# .envs/py314-root in the checkout), holding the venvs at fixed paths (/opt/venv-newest,
# /opt/venv-stack) so their shebangs hold whatever the checkout's path. A command enters that root
# only through a private mount namespace (see py314_enter), so no mount ever outlives it.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
OLDEST_HA=2025.4.4
NEWEST_HA=2026.10.4
STACK_HA=2026.11.0
OLDEST_REQUIREMENTS=(requirements_test.txt requirements_dev.txt requirements_bench.txt)
NEWEST_REQUIREMENTS=(requirements_test_newest.txt)
STACK_REQUIREMENTS=(requirements_stack_newest.txt)
PY314_ROOT=${CALLSTACK_PY314_ROOT:-$REPO/.envs/py314-root}
# Debian packages of the root: the interpreter, a compiler for the sdists without cp314 wheels
# (pymicro-vad, pyspeex-noise), the programs tests start (ser2net; ffmpeg, espeak-ng and sox
# for call audio), and libturbojpeg0 (HA's camera component loads it at start). Changing this
# list installs the difference on the next scripts/setup.
PY314_ROOT_PACKAGES=(python3.14 python3.14-venv python3.14-dev g++ ca-certificates ser2net git
  ffmpeg espeak-ng sox libturbojpeg0)
# What the browser suite (tests/browser) runs in the root: Debian's chromium and node, and the
# font chromium recommends (playwright-core is in the checkout: npm on the host installs it).
# Installed with apt once debootstrap has made the root (debootstrap's resolver is not made for
# a browser's dependencies), without recommends: what that costs is in scripts/setup.
PY314_ROOT_APT_PACKAGES=(chromium nodejs fonts-liberation)
PY314_ROOT_SUITE=forky

# Whether environment $1 runs on the host (oldest always; the Python 3.14 ones when the host has
# that Python), not inside the root.
env_on_host() {
  [ "$1" = oldest ] && return 0
  # Called in this shell, not in $(...): the search is then cached for the calls that follow.
  py314_host_python >/dev/null
  [ -n "$_PY314_HOST" ]
}

# The venv of an environment: as the commands inside it see it (in the root or on the host).
env_venv() {
  case "$1" in
    oldest) echo "$REPO/.venv" ;;
    newest | stack)
      if env_on_host "$1"; then echo "$REPO/.envs/venv-$1"; else echo "/opt/venv-$1"; fi
      ;;
    *) return 1 ;;
  esac
}

env_ha_version() {
  case "$1" in
    oldest) echo "$OLDEST_HA" ;;
    newest) echo "$NEWEST_HA" ;;
    stack) echo "$STACK_HA" ;;
  esac
}

# A host interpreter >= 3.14.2 with venv, or nothing. Cached for this shell.
py314_host_python() {
  if [ -z "${_PY314_HOST_SEARCHED:-}" ]; then
    _PY314_HOST_SEARCHED=1
    _PY314_HOST=
    local candidate
    for candidate in \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.14*/bin/python3.14 2>/dev/null | sort -rV) \
      "$(command -v python3.14 2>/dev/null || true)" /usr/local/bin/python3.14 /usr/bin/python3.14; do
      if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c \
        'import sys, venv, ensurepip; assert sys.version_info >= (3, 14, 2)' 2>/dev/null; then
        _PY314_HOST=$candidate
        break
      fi
    done
  fi
  echo "$_PY314_HOST"
}

# Mount points under $1 that this mount namespace (or another one not chrooted into it) shows.
py314_mounts_under() {
  local root
  root=$(realpath -m "$1")
  cat /proc/[0-9]*/mounts 2>/dev/null | awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' |
    sort -u
}

# Processes whose root directory or working directory lies in $1 (a command inside the root).
py314_processes_in() {
  local root pid link
  root=$(realpath -m "$1")
  for pid in /proc/[0-9]*; do
    for link in root cwd; do
      case "$(readlink "$pid/$link" 2>/dev/null)/" in
        "$root"/*) echo "${pid#/proc/} $(cat "$pid/comm" 2>/dev/null)"; break ;;
      esac
    done
  done
}

# Delete a root, refusing while anything is mounted under it (a bind of /dev or of a checkout
# there would turn `rm -rf` into deleting the host's files) or while a command runs inside it.
py314_remove_root() {
  local root=$1 busy
  busy=$(py314_mounts_under "$root")
  if [ -n "$busy" ]; then
    echo "refusing to delete $root: mounted under it (see /proc/*/mounts):" >&2
    echo "$busy" >&2
    return 1
  fi
  busy=$(py314_processes_in "$root")
  if [ -n "$busy" ]; then
    echo "refusing to delete $root: processes run inside it (pid, name):" >&2
    echo "$busy" >&2
    return 1
  fi
  rm -rf --one-file-system -- "$root"
}

# Run "$@" (from directory $2) inside the root with $1's bin first on PATH. The mounts (/proc,
# /dev, /sys, a private /tmp, the checkout at its own path, and $PY314_EXTRA_BIND when set: "HOST
# INSIDE") exist only in the private mount namespace of this one command.
py314_enter() {
  local venv=$1 cwd=$2
  shift 2
  if [ "$(id -u)" != 0 ]; then
    echo "entering $PY314_ROOT needs root (unshare --mount, chroot)" >&2
    return 1
  fi
  unshare --mount --propagation private -- /bin/sh -ec '
    root=$1 repo=$2 venv=$3 cwd=$4 extra=$5
    shift 5
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    mkdir -p "$root$repo"
    mount --bind "$repo" "$root$repo"
    if [ -n "$extra" ]; then
      mkdir -p "$root${extra#* }"
      mount --bind "${extra%% *}" "$root${extra#* }"
    fi
    path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    [ -n "$venv" ] && path=$venv/bin:$path
    exec chroot "$root" /usr/bin/env -u PYTHONHOME -u PYTHONPATH -u PYENV_VERSION \
      -u PIP_FIND_LINKS PATH="$path" HOME=/root LANG=C.UTF-8 \
      SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt ${venv:+VIRTUAL_ENV=$venv} \
      /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
  ' sh "$PY314_ROOT" "$REPO" "$venv" "$cwd" "${PY314_EXTRA_BIND:-}" "$@"
}

# Run "$@" in environment $1 (oldest, newest, stack), from the current directory when it is in
# the checkout, else from the checkout.
env_run() {
  local name=$1 venv cwd
  shift
  venv=$(env_venv "$name") || { echo "unknown environment: $name" >&2; return 2; }
  cwd=$(pwd -P)
  case "$cwd/" in "$REPO"/*) ;; *) cwd=$REPO ;; esac
  (
    # Each environment's coverage data apart: pytest-cov combines every file named like
    # its own plus a suffix, so a plain .coverage would swallow .coverage.newest when the two
    # run side by side (scripts/test).
    export COVERAGE_FILE=$REPO/.coverage.$name
    if [ "$name" != oldest ]; then
      # HA >= 2026.10 aliases voluptuous to probatio: let mypy see the same (typings/); and keep
      # each environment's mypy cache apart.
      export MYPYPATH=$REPO/typings/voluptuous-is-probatio${MYPYPATH:+:$MYPYPATH}
      export MYPY_CACHE_DIR=$REPO/.mypy_cache/$name
    fi
    if env_on_host "$name"; then
      cd "$cwd" && PATH="$venv/bin:$PATH" VIRTUAL_ENV=$venv exec "$@"
    else
      py314_enter "$venv" "$cwd" "$@"
    fi
  )
}

# Whether environment $1 has been built by scripts/setup.
env_ready() {
  local venv
  venv=$(env_venv "$1")
  if env_on_host "$1"; then
    [ -f "$venv/.requirements.sha256" ]
  else
    [ -f "$PY314_ROOT/.callstack/ready" ] && [ -f "$PY314_ROOT$venv/.requirements.sha256" ]
  fi
}
