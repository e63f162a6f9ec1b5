"""`vkstream serve` with Gemma 3 (gemma-3-270m): Gemma chat turns, streaming, continuation, and
cache fill with per-layer caches (sliding-window local layers + global layers with sinks).
Kept short: gemma-3-270m decodes at a few tokens/s on lavapipe."""
import json
import os
import urllib.request

import pytest

GEMMA = os.path.expanduser("~/.cache/vkstream/models/gemma-3-270m-q4_k_m.gguf")
if not os.path.isfile(GEMMA):
    pytest.exit(f"SKIPPED: {GEMMA} not found (tools/fetch_model.sh gemma3)", returncode=77)
MODEL_ID = "gemma-3-270m-q4_k_m"


def post(server, path, obj):
    req = urllib.request.Request(server.url + path, data=json.dumps(obj).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


def test_gemma3_turns_streaming_continuation_and_cache_fill(make_server):
    from openai import OpenAI
    # The local layers' sliding window is 512 tokens, the least window the model takes; the
    # global layers hold 4 sinks + 512.
    s = make_server(window=512, model=GEMMA)
    c = OpenAI(base_url=s.url + "/v1", api_key="x", max_retries=0, timeout=300)
    turn1 = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}]
    # The prompt is Gemma's turns (the system text opens the first user turn), not ChatML: its
    # token count is that of the Gemma rendering, tokenized with BOS and the turn markers as
    # special tokens.
    gemma_text = "<start_of_turn>user\nBe brief.\n\nName a colour.<end_of_turn>\n<start_of_turn>model\n"
    want = post(s, "/tokenize", {"content": gemma_text, "add_special": True})["tokens"]
    assert want[:2] == post(s, "/tokenize", {"content": "<start_of_turn>", "add_special": True})["tokens"]
    text, usage, timings = "", None, None
    for chunk in c.chat.completions.create(model=MODEL_ID, messages=turn1, temperature=0, max_tokens=3,
                                           stream=True, stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.choices and chunk.choices[0].finish_reason:
            timings = chunk.model_extra["timings"]
        if chunk.usage:
            usage = chunk.usage
    assert text and usage.completion_tokens >= 1
    assert usage.prompt_tokens == len(want)
    assert timings["cache_capacity"] == 516 and timings["cache_n"] == usage.prompt_tokens + usage.completion_tokens

    # The next turn continues the slot: only the new turn is fed.
    turn2 = turn1 + [{"role": "assistant", "content": text}, {"role": "user", "content": "Another."}]
    r = c.chat.completions.create(model=MODEL_ID, messages=turn2, temperature=0, max_tokens=2)
    assert r.usage.prompt_tokens_details.cached_tokens >= usage.prompt_tokens + usage.completion_tokens - 1
    new_turn = "<end_of_turn>\n<start_of_turn>user\nAnother.<end_of_turn>\n<start_of_turn>model\n"
    fed = len(post(s, "/tokenize", {"content": new_turn})["tokens"])
    assert r.usage.prompt_tokens - r.usage.prompt_tokens_details.cached_tokens == fed

    status, body = s.get("/metrics")
    assert 'vkstream_kv_cache_capacity{slot="0"} 516' in body
    fill = [float(l.split()[1]) for l in body.splitlines() if l.startswith('vkstream_kv_cache_tokens{slot="0"}')]
    assert fill == [r.model_extra["timings"]["cache_n"]]
