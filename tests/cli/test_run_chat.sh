#!/usr/bin/env bash
# vkstream run and chat on SmolLM2 (skipped when the model is not cached).
source "$(dirname "$0")/common.bash"
MODEL=${VKS_TEST_MODEL:-$HOME/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf}
[ -s "$MODEL" ] || { echo "SKIPPED: $MODEL not found"; exit 77; }

# run: greedy completion streams to stdout, speed and cache figures to stderr.
run_vks "$TMP/run.out" "$TMP/run.err" run -m "$MODEL" -p "The capital of France is" -n 6 --greedy --sink 4 --window 60
[ "$rc" -eq 0 ] || { cat "$TMP/run.err" >&2; fail "run exited $rc"; }
grep -q "^The capital of France is Paris" "$TMP/run.out" || { cat "$TMP/run.out" >&2; fail "run: expected Paris"; }
grep -q "decode:" "$TMP/run.err" || fail "run: no speed line on stderr"
grep -q "4 sinks + 60 window" "$TMP/run.err" || fail "run: cache shape not reported"

# chat: one question on stdin, an empty line ends the session.
printf 'What is the capital of France? Answer in one word.\n\n' |
  "$VKS" chat -m "$MODEL" -n 12 --greedy --window 124 >"$TMP/chat.out" 2>"$TMP/chat.err"
rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/chat.err" >&2; fail "chat exited $rc"; }
grep -qi "paris" "$TMP/chat.out" || { cat "$TMP/chat.out" >&2; fail "chat: expected Paris in the reply"; }

# bad arguments: one line on stderr (usage follows on later lines for run), non-zero exit.
run_vks "$TMP/bad.out" "$TMP/bad.err" run -p "x"
[ "$rc" -ne 0 ] || fail "run without -m exited 0"
run_vks "$TMP/bad.out" "$TMP/bad.err" run -m /nonexistent.gguf -p "x"
[ "$rc" -ne 0 ] || fail "run on a missing file exited 0"
grep -q "error" "$TMP/bad.err" || fail "run on a missing file: no error message"
echo "run/chat ok"
