#!/usr/bin/env bash
# Builds the stripped release addon cip.<platform>.node (in this directory) for each Rust target
# given, default the host's, with napi-rs's CLI (`napi build --platform --release`), which also
# regenerates index.d.ts from the #[napi] signatures. index.js (the loader) is written by hand, so
# `--no-js`. The symbol table is stripped afterwards with binutils' strip for the target: napi's
# `--strip` (`-C link-arg=-s`) leaves it, and the profile's `strip` would rebuild every crate.
# `npm run pack` then packs each built addon into its platform package.
#
#   ./build.sh                                   # the host (e.g. x86_64-unknown-linux-gnu)
#   ./build.sh x86_64-unknown-linux-musl aarch64-unknown-linux-gnu
#
# Cross targets from a Linux x64 host use Debian's toolchains (tests/run-all.sh installs them):
#   x86_64-unknown-linux-musl  musl-tools (musl-gcc); napi-rs links it dynamically against musl
#                              (-crt-static), as Node on Alpine loads addons
#   aarch64-unknown-linux-gnu  gcc-aarch64-linux-gnu
# The C compiler matters beyond linking: aws-lc-sys (TLS for the engine) compiles C for the target.
# macOS and Windows targets build on their own hosts (untested here; see README).
set -euo pipefail
cd "$(dirname "$0")"

host="$(rustc -vV | sed -n 's/^host: //p')"
[ $# -gt 0 ] || set -- "$host"

for target in "$@"; do
  env=()
  strip=strip
  if [ "$target" != "$host" ]; then
    case "$target" in
      x86_64-unknown-linux-musl) cc=musl-gcc ar=ar ;;
      aarch64-unknown-linux-gnu) cc=aarch64-linux-gnu-gcc ar=aarch64-linux-gnu-ar strip=aarch64-linux-gnu-strip ;;
      *) cc="" ;;
    esac
    if [ -n "$cc" ]; then
      if ! command -v "$cc" >/dev/null; then
        echo "build.sh: $target needs $cc (Debian: musl-tools / gcc-aarch64-linux-gnu)" >&2
        exit 2
      fi
      linker="$cc"
    fi
    if [ "$target" = x86_64-unknown-linux-musl ]; then
      # Rust links a musl cdylib against libgcc_s (the unwinder), which musl-gcc does not search
      # for. The host's serves for linking (only its name is recorded; Alpine's Node loads
      # Alpine's libgcc_s), from a directory holding just that file so glibc's libc stays unseen,
      # passed by a linker wrapper at a fixed path (a new path would rebuild every crate).
      link="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')/musl-link"
      mkdir -p "$link"
      ln -sf "$(gcc -print-file-name=libgcc_s.so.1)" "$link/libgcc_s.so.1"
      printf '#!/bin/sh\nexec musl-gcc "$@" -L"%s"\n' "$link" >"$link/cc"
      chmod +x "$link/cc"
      linker="$link/cc"
    fi
    if [ -n "$cc" ]; then
      var="${target//-/_}"
      env+=("CC_$var=$cc" "AR_$var=$ar" "CARGO_TARGET_${var^^}_LINKER=$linker")
    fi
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
  fi
  start=$SECONDS
  env "${env[@]}" npx napi build --platform --release --no-js --target "$target"
  # napi names the file after the npm platform (cip.linux-x64-gnu.node); for a target cip does not
  # ship, the newest addon here is the one just built.
  addon="$(node -e 'const [n] = Object.entries(require("./platform.js").PLATFORMS).find(([, p]) => p.rust === process.argv[1]) || []; console.log(n ? `cip.${n}.node` : "")' "$target")"
  [ -n "$addon" ] || addon="$(ls -t cip.*.node | head -n1)"
  case "$target" in *-linux-*) "$strip" --strip-all "$addon" ;; esac
  echo "build.sh: $target -> node/$addon ($(stat -c %s "$addon") bytes, stripped) in $((SECONDS - start)) s"
done
