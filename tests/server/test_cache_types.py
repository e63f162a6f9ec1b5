"""`vkstream serve --cache-type-k T --cache-type-v T`: a quantized KV cache (issue 21)."""
import json
import re

MODEL_ID = "SmolLM2-135M-Instruct.Q4_1"


def metrics(server):
    status, body = server.get("/metrics")
    assert status == 200
    return body


def kv_bytes(body):
    return float(re.search(r"^vkstream_kv_bytes (\S+)$", body, re.M).group(1))


def test_a_quantized_cache_answers_and_reports_fewer_kv_bytes(make_server):
    from openai import OpenAI
    f16 = make_server()
    f16_body = metrics(f16)
    assert 'vkstream_kv_cache_type_info{k="f16",v="f16",f16_sinks="false"} 1' in f16_body
    f16_kv = kv_bytes(f16_body)
    f16.stop()

    q = make_server("--cache-type-k", "q8_0", "--cache-type-v", "q4_0")
    assert "k q8_0, v q4_0" in q.output()  # the start-up line names the types
    body = metrics(q)
    assert 'vkstream_kv_cache_type_info{k="q8_0",v="q4_0",f16_sinks="false"} 1' in body
    # Same slots and window: K at 34/64 and V at 18/64 of f16's bytes per row (blocks of 32
    # values: 32 one-byte or half-byte values and an f16 scale), so well under 60 % of f16's
    # total; the fixed parts (RoPE tables, step records) keep it above a quarter.
    q_kv = kv_bytes(body)
    assert 0.25 * f16_kv < q_kv < 0.6 * f16_kv, (q_kv, f16_kv)
    models = json.loads(q.get("/v1/models")[1])["data"][0]["meta"]
    assert (models["cache_type_k"], models["cache_type_v"]) == ("q8_0", "q4_0")

    c = OpenAI(base_url=q.url + "/v1", api_key="x", max_retries=0, timeout=120)
    question = [{"role": "user", "content": "What is the capital of France?"}]
    r = c.chat.completions.create(model=MODEL_ID, messages=question, temperature=0, max_tokens=12)
    assert "Paris" in r.choices[0].message.content
    # Streaming, and a continued conversation still reuses the (quantized) cache.
    history = question + [{"role": "assistant", "content": r.choices[0].message.content},
                          {"role": "user", "content": "And of Italy?"}]
    text, usage = "", None
    for chunk in c.chat.completions.create(model=MODEL_ID, messages=history, temperature=0, max_tokens=12,
                                           stream=True, stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    assert text
    assert usage.prompt_tokens_details.cached_tokens >= r.usage.prompt_tokens + r.usage.completion_tokens - 1


def test_a_bad_cache_type_is_refused(tmp_path):
    import subprocess
    from conftest import BIN, MODEL
    p = subprocess.run([BIN, "serve", "-m", MODEL, "--port", "0", "--cache-type-k", "q5_1"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "--cache-type-k: 'q5_1' is not f16, q8_0 or q4_0" in p.stderr
