#!/usr/bin/env bash
# The bash, zsh and fish completions the build wrote (build/completions/) offer
# every option --help shows: bash and fish are asked for real, zsh's script is
# checked for syntax and for each option's spec. A value of a FILE option
# completes file names.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/options.sh"
for sh in zsh fish; do
  command -v $sh > /dev/null || { echo "skip: $sh missing (apt-get install $sh)"; exit 77; }
done
dir="$CITYPIPE_BIN/../completions"
[ -d "$dir" ] || fail "no completions were built in $dir"
touch "$T/some-file.ndjson"

n=0
for tool in $(tools); do
  help_options "$tool" > "$T/want"
  [ -s "$T/want" ] || fail "$tool --help shows no option"
  # bash: what the completion function offers after "TOOL -".
  bash -c 'source "$1"; COMP_WORDS=("$2" -); COMP_CWORD=1; "_citypipe_${2//-/_}"; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$dir/bash/$tool" "$tool" > "$T/bash" || fail "$tool: the bash completion failed"
  # fish: its own completion engine, long and short options.
  fish --no-config -c "source '$dir/fish/$tool.fish'; complete -C '$tool -'; complete -C '$tool --'" \
    | cut -f1 > "$T/fish" || fail "$tool: the fish completion failed"
  zsh -n "$dir/zsh/_$tool" || fail "$tool: the zsh completion is not valid zsh"
  while read -r opt; do
    grep -qxF -- "$opt" "$T/bash" || fail "$tool: bash does not complete $opt"
    grep -qxF -- "$opt" "$T/fish" || fail "$tool: fish does not complete $opt"
    grep -qF -- "'*$opt[" "$dir/zsh/_$tool" || fail "$tool: the zsh completion has no spec for $opt"
    n=$((n + 1))
  done < "$T/want"
  # Nothing offered that --help does not show (a hidden option, a stale one).
  sort -u "$T/want" > "$T/want.sorted"
  extra=$(sort -u "$T/bash" | comm -13 "$T/want.sorted" -)
  [ -z "$extra" ] || fail "$tool: bash offers options --help does not show: $extra"
done
[ "$n" -gt 0 ] || fail "no tool found in $CITYPIPE_BIN"
pass "bash, fish and zsh complete all $n options of --help"

# A FILE-valued option completes paths, in bash and fish.
got=$(cd "$T" && bash -c 'source "$1"; COMP_WORDS=(window-agg --reject some-); COMP_CWORD=2; _citypipe_window_agg; echo "${COMPREPLY[*]}"' _ "$dir/bash/window-agg")
assert_eq "$got" "some-file.ndjson" "bash completes the FILE of --reject"
got=$(cd "$T" && fish --no-config -c "source '$dir/fish/window-agg.fish'; complete -C 'window-agg --reject some-'" | cut -f1)
assert_eq "$got" "some-file.ndjson" "fish completes the FILE of --reject"
