#!/usr/bin/env bash
# npm test's first step: make sure the system tools the tests run on this
# machine are installed (scripts/test-packages.txt lists them), installing the
# missing ones with apt-get when run as root, and saying so. On a machine that
# has them all it prints nothing and costs a few milliseconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
manifest="$here/test-packages.txt"

has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing=() packages=()
while read -r cmd pkg _; do
  case "$cmd" in ''|'#'*) continue ;; esac
  has "$cmd" && continue
  missing+=("$cmd")
  case " ${packages[*]} " in *" $pkg "*) ;; *) packages+=("$pkg") ;; esac
done < "$manifest"

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test: missing ${missing[*]}; install the Debian packages ${packages[*]} as root (apt-get install ${packages[*]}), or run npm test as root and it will" >&2
  exit 1
fi
echo "npm test: installing ${packages[*]} (missing: ${missing[*]}), once per machine"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
still=()
for cmd in "${missing[@]}"; do has "$cmd" || still+=("$cmd"); done
if [ ${#still[@]} -gt 0 ]; then
  echo "npm test: still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
