#!/bin/sh
# Compiles the int8 runtime as the exported C library holds it: the files
# TINYNAS_MCU_RUNTIME_FILES lists, copied with their paths relative to
# mcu/runtime/ kept and no include flags, with the host's gcc (strict C99)
# and with arm-none-eabi-gcc for a Cortex-M4. Also fails when a .c or .h
# under mcu/runtime/ is missing from the list (the export would lack it).
# Usage: check_c99.sh RUNTIME_DIR FILE...
set -eu
root=$1
shift
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
  echo "FAIL: arm-none-eabi-gcc not found; run scripts/install_deps.sh" >&2
  exit 1
fi
if ! command -v gcc >/dev/null 2>&1; then
  echo "FAIL: gcc not found; run scripts/install_deps.sh" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
for f in "$@"; do
  rel=${f#"$root"/}
  mkdir -p "$tmp/src/$(dirname "$rel")"
  cp "$f" "$tmp/src/$rel"
  echo "$rel" >>"$tmp/listed"
done
status=0
for f in $(cd "$root" && find . -name '*.[ch]' | sed 's|^\./||' | sort); do
  if ! grep -qx "$f" "$tmp/listed"; then
    echo "FAIL: $f is not in TINYNAS_MCU_RUNTIME_FILES" >&2
    status=1
  fi
done
cd "$tmp/src"
sources=$(find . -name '*.c' | sort)
if [ -z "$sources" ]; then
  echo "FAIL: no .c files listed" >&2
  exit 1
fi
for c in $sources; do
  o=$(echo "$c" | sed 's|^\./||; s|/|_|g; s|\.c$|.o|')
  gcc -std=c99 -pedantic -Wall -Wextra -Werror -Wconversion -Wshadow \
    -c "$c" -o "$tmp/host_$o" || { echo "FAIL: gcc $c" >&2; status=1; }
  arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -std=c99 -Wall -Wextra \
    -Werror -c "$c" -o "$tmp/arm_$o" ||
    { echo "FAIL: arm-none-eabi-gcc $c" >&2; status=1; }
done
if [ "$status" -eq 0 ]; then
  arm-none-eabi-size -t "$tmp"/arm_*.o | tail -1 |
    awk '{print "Cortex-M4 -Os runtime: text " $1 ", data " $2 ", bss " $3}'
  echo "PASS: $(echo "$sources" | wc -l) runtime sources compile cleanly"
fi
exit $status
