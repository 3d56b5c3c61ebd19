#!/usr/bin/env bash
# Pull of NEW entries onto a BASE-entry archive, against pull of NEW onto a NEW-entry archive and a full verify of the
# big one: pull verifies only what it adds, so its time should follow NEW, not BASE (the ratio near 1).
#   bench/pull_bench.sh BUILD_DIR [BASE=100000] [NEW=1000] [RUNS=5]
set -euo pipefail
build=${1:?usage: bench/pull_bench.sh BUILD_DIR [BASE] [NEW] [RUNS]}
avow=$(cd "$build" && pwd)/avow
base=${2:-100000}
new=${3:-1000}
runs=${4:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/config HOME=$work

# A JSONL manifest of $2 synthetic statements numbered from $1, tagged $3.
manifest() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
first, n, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(first, first + n):
    print(json.dumps({"text": f"{tag} statement {i}: the ministry said on day {i} that prices of item {i * 7919 % 1000} rose.\n",
                      "source": f"https://bench.example/{tag}/{i}"}))
PY
}

# Archive $2 statements tagged $3 into archive $1, in batches of 20,000.
fill() {
  local dir=$1 n=$2 tag=$3 done_=0 chunk
  while [ "$done_" -lt "$n" ]; do
    chunk=$(( n - done_ < 20000 ? n - done_ : 20000 ))
    manifest "$done_" "$chunk" "$tag" > "$work/m.jsonl"
    "$avow" -q -C "$dir" archive --batch "$work/m.jsonl" > /dev/null
    done_=$(( done_ + chunk ))
  done
}

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Build a local archive of $2 entries and a remote copy with $3 more; time `pull` of a fresh copy of the local one
# $runs times; print the median seconds and the entries verified.
pull_times() {
  local name=$1 size=$2 more=$3
  "$avow" -q init "$work/$name" --origin "bench.example/$name" > /dev/null
  fill "$work/$name" $(( size - 1 )) "$name-base"
  cp -a "$work/$name" "$work/$name-remote"
  fill "$work/$name-remote" "$more" "$name-new"
  local t=() verified=""
  for r in $(seq "$runs"); do
    rm -rf "$work/$name-local"
    cp -a "$work/$name" "$work/$name-local"
    "$avow" -C "$work/$name-local" remote add up "$work/$name-remote" > /dev/null
    local s e out
    s=$(now)
    out=$("$avow" -C "$work/$name-local" pull up --json)
    e=$(now)
    verified=$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["status"], j["entries_verified"], j["old_size"], j["new_size"])' "$out")
    python3 -c 'import json,sys; print(json.loads(sys.argv[1])["verify_seconds"])' "$out" >> "$work/$name.verify"
    t+=("$(calc "$e - $s")")
  done
  printf '%s\n' "${t[@]}" | median > "$work/$name.median"
  # The transfer alone, by stock git on the same copies: the floor under any pull.
  t=()
  for r in $(seq "$runs"); do
    rm -rf "$work/$name-local"
    cp -a "$work/$name" "$work/$name-local"
    s=$(now)
    git -C "$work/$name-local" fetch -q "$work/$name-remote" main:refs/bench/fetched
    e=$(now)
    t+=("$(calc "$e - $s")")
  done
  printf '%s\n' "${t[@]}" | median > "$work/$name.fetch"
  echo "$verified" > "$work/$name.verified"
}

echo "pull_bench: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), base=$base new=$new runs=$runs"
pull_times big "$base" "$new"
pull_times small "$new" "$new"
s=$(now)
"$avow" -q -C "$work/big-remote" verify > /dev/null
e=$(now)
full=$(calc "$e - $s")
big=$(cat "$work/big.median")
small=$(cat "$work/small.median")
printf 'pull of %d new onto %d entries: median %.3f s (%s)\n' "$new" "$base" "$big" "$(cat "$work/big.verified")"
printf 'pull of %d new onto %d entries:  median %.3f s (%s)\n' "$new" "$new" "$small" "$(cat "$work/small.verified")"
bigf=$(cat "$work/big.fetch")
smallf=$(cat "$work/small.fetch")
printf 'ratio big/small: %.2f\n' "$(calc "$big / $small")"
printf 'stock git fetch of the same: %.3f s onto %d, %.3f s onto %d\n' "$bigf" "$base" "$smallf" "$new"
printf 'pull minus git fetch (verification and ref update): %.3f s onto %d, %.3f s onto %d, ratio %.2f\n' \
  "$(calc "$big - $bigf")" "$base" "$(calc "$small - $smallf")" "$new" \
  "$(calc "($big - $bigf) / ($small - $smallf)")"
printf 'verification alone (pull --json verify_seconds): median %.3f s onto %d, %.3f s onto %d, ratio %.2f\n' \
  "$(median < "$work/big.verify")" "$base" "$(median < "$work/small.verify")" "$new" \
  "$(calc "$(median < "$work/big.verify") / $(median < "$work/small.verify")")"
printf 'full verify of the %d-entry remote: %.3f s (%.1fx the pull)\n' "$(( base + new ))" "$full" "$(calc "$full / $big")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
