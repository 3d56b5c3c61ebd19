#!/usr/bin/env bash
# Install avow into a temporary prefix, check what it installs (command, a man page per command, completions,
# headers, CMake package), then build examples/consumer against that prefix only and run it on a fresh archive.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR  (run by ctest as install.consumer)
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }

for f in bin/avow libexec/avow/avow-net share/man/man1/avow.1 share/man/man1/avow-init.1 share/man/man1/avow-archive.1 \
         share/man/man1/avow-key.1 share/man/man1/avow-key-generate.1 share/man/man1/avow-key-list.1 \
         share/man/man1/avow-key-add.1 share/man/man1/avow-key-revoke.1 share/man/man1/avow-key-rotate.1 \
         share/man/man1/avow-verify-proof.1 share/man/man1/avow-version.1 share/man/man1/avow-help.1 \
         share/bash-completion/completions/avow share/zsh/site-functions/_avow \
         lib/libarchive.a lib/libarchive_util.a lib/libarchive_crypto.a lib/libarchive_text.a lib/libarchive_json.a \
         lib/libarchive_record.a lib/libarchive_log.a lib/libarchive_store.a lib/libarchive_index.a \
         lib/libarchive_verify.a lib/cmake/avow/avowConfig.cmake lib/cmake/avow/avowConfigVersion.cmake \
         lib/cmake/avow/avowTargets.cmake include/archive/archive.hpp include/archive/version.hpp \
         include/archive/util/error.hpp; do
  [[ -f $prefix/$f ]] || fail "not installed: $f"
done
for f in include/archive/archive_impl.hpp include/archive/store/git_handles.hpp \
         include/archive/crypto/openssl_handles.hpp include/archive/archive.cpp bin/avow-docgen; do
  [[ ! -e $prefix/$f ]] || fail "installed but private: $f"
done

# The installed avow hands the network commands to the installed helper (PREFIX/libexec/avow/avow-net).
"$prefix/bin/avow" capture --help | grep -q '^Usage: avow capture' || fail "installed avow capture --help: not the helper's help"
"$prefix/bin/avow" help cosign | grep -q '^Usage: avow cosign' || fail "installed avow help cosign: not the helper's help"

# One man page per command and subcommand: as many as `avow help` knows, each rendering without a groff warning.
pages=$(ls "$prefix/share/man/man1" | wc -l)
subcommands() { "$prefix/bin/avow" "$@" --help | sed -n "/^Subcommands:/,/^$/p" | { grep "^  [a-z]" || true; } | awk '{print $1}'; }
want=1
for c in $(subcommands); do want=$((want + 1 + $(subcommands "$c" | wc -l))); done
[[ $pages -eq $want ]] || fail "$pages man pages: want $want: avow.1, one per command and one per subcommand (avow-key-generate.1...)"
for page in "$prefix"/share/man/man1/*.1; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [[ -z $warnings ]] || fail "groff warns on $(basename "$page"): $warnings"
done
head -n 2 "$prefix/share/man/man1/avow-key-generate.1" | grep -qx '.TH AVOW\\-KEY\\-GENERATE 1 "" "avow 0.1.0" "avow manual"' ||
  fail "avow-key-generate.1 has no .TH line: $(head -n 2 "$prefix/share/man/man1/avow-key-generate.1")"
grep -qx '\\fB\\-o, \\-\\-out\\fR \\fITEXT\\fR' "$prefix/share/man/man1/avow-key-generate.1" ||
  fail "avow-key-generate.1 does not list -o, --out"
grep -qx '\\fB\\-\\-encrypt\\fR' "$prefix/share/man/man1/avow-key-generate.1" || fail "avow-key-generate.1: --encrypt is a flag"
grep -q '^.SH EXAMPLES$' "$prefix/share/man/man1/avow-archive.1" || fail "avow-archive.1 has no EXAMPLES"

# The bash completion completes subcommands and options from the same tree.
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _avow; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$prefix/share/bash-completion/completions/avow" "$@" | sort | tr '\n' ' '
}
[[ $(complete_words avow key '') == "add generate list revoke rotate " ]] || fail "bash: avow key <TAB> gave '$(complete_words avow key '')'"
[[ $(complete_words avow -C dir ve) == "verify verify-evidence verify-proof version " ]] || fail "bash: avow -C dir ve<TAB> gave '$(complete_words avow -C dir ve)'"
[[ $(complete_words avow init --or) == "--origin " ]] || fail "bash: avow init --or<TAB> gave '$(complete_words avow init --or)'"
grep -q "^_avow_key_generate() {" "$prefix/share/zsh/site-functions/_avow" || fail "zsh: no _avow_key_generate"
head -n 1 "$prefix/share/zsh/site-functions/_avow" | grep -qx '#compdef avow' || fail "zsh: no #compdef line"

# The consumer builds against the installed tree only: no include path into the source tree.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/examples/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${launcher[@]}" >"$tmp/configure.log" ||
  { cat "$tmp/configure.log"; fail "consumer does not configure"; }
cmake --build "$tmp/consumer" >"$tmp/build.log" || { cat "$tmp/build.log"; fail "consumer does not build"; }
grep -q -- "-isystem $prefix/include" "$tmp/consumer/compile_commands.json" || fail "consumer not compiled against $prefix/include"
if grep -q -- "-I$src\b\|-isystem $src\b\|-I$src/\|-isystem $src/" "$tmp/consumer/compile_commands.json"; then
  fail "consumer compiled against the source tree"
fi

# Run it on a fresh archive made by the installed avow.
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/config GIT_CONFIG_NOSYSTEM=1
"$prefix/bin/avow" -q init "$tmp/a" --origin example.org/install-test >/dev/null
printf 'Statement one.\n' | "$prefix/bin/avow" -q -C "$tmp/a" archive - --source https://example.org/one >/dev/null
rc=0
out=$("$tmp/consumer/avow-verify-example" "$tmp/a") || rc=$?
expected=$'avow library 0.1.0\norigin example.org/install-test, 2 entries, 1 statements: verified'
[[ $rc -eq 0 ]] || fail "consumer exit $rc, output: $out"
[[ $out == "$expected" ]] || fail "consumer printed: $out"
rc=0
"$tmp/consumer/avow-verify-example" "$tmp/missing" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 3 ]] || fail "consumer on a missing archive: exit $rc, want 3"
echo "install test passed: $pages man pages"
