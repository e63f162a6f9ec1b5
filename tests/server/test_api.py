"""The OpenAI-compatible endpoints through the official `openai` client, and the others."""
import json
import urllib.request

import pytest

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]


def test_chat_non_streaming(client):
    r = client.chat.completions.create(model="SmolLM2-135M-Instruct.Q4_1", messages=QUESTION, temperature=0,
                                       max_tokens=12)
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert "Paris" in r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"  # the end-of-turn token, well before 12 tokens
    assert r.usage.prompt_tokens > 10
    assert 0 < r.usage.completion_tokens <= 12
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_streaming_frames(client):
    stream = client.chat.completions.create(model="SmolLM2-135M-Instruct.Q4_1", messages=QUESTION, temperature=0,
                                            max_tokens=12, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1  # one id for the whole stream
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and all(f is None for f in finishes[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0  # the usage chunk comes last
    # Streaming and non-streaming give the same text at temperature 0.
    r = client.chat.completions.create(model="SmolLM2-135M-Instruct.Q4_1", messages=QUESTION, temperature=0,
                                       max_tokens=12)
    assert r.choices[0].message.content == text


def test_raw_sse_ends_with_done(server):
    body = json.dumps({"messages": QUESTION, "max_tokens": 3, "temperature": 0, "stream": True}).encode()
    req = urllib.request.Request(server.url + "/v1/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        events = [e for e in r.read().decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    last = json.loads(events[-2][6:])
    assert last["choices"][0]["finish_reason"] == "length"  # 3 tokens cannot finish the answer
    assert "usage" not in last  # not asked for


def test_completions_streaming_and_not(client):
    r = client.completions.create(model="SmolLM2-135M-Instruct.Q4_1", prompt="The capital of France is",
                                  temperature=0, max_tokens=4)
    assert r.object == "text_completion"
    assert r.choices[0].text.startswith(" Paris")
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 4
    parts = list(client.completions.create(model="SmolLM2-135M-Instruct.Q4_1", prompt="The capital of France is",
                                           temperature=0, max_tokens=4, stream=True))
    assert "".join(p.choices[0].text for p in parts) == r.choices[0].text
    assert parts[-1].choices[0].finish_reason == "length"


def test_sampling_parameters_are_honoured(client):
    kw = dict(model="SmolLM2-135M-Instruct.Q4_1", prompt="Once upon a time", max_tokens=16)
    a = client.completions.create(temperature=1.0, seed=42, **kw).choices[0].text
    b = client.completions.create(temperature=1.0, seed=42, **kw).choices[0].text
    c = client.completions.create(temperature=1.0, seed=43, **kw).choices[0].text
    assert a == b  # a seed repeats
    assert a != c  # another seed differs (16 tokens at temperature 1)
    g1 = client.completions.create(temperature=0, **kw).choices[0].text
    g2 = client.completions.create(temperature=1.0, seed=7, extra_body={"top_k": 1}, **kw).choices[0].text
    assert g1 == g2  # top_k = 1 is greedy at any temperature
    # penalties change a greedy continuation that repeats itself
    rep = dict(model="SmolLM2-135M-Instruct.Q4_1", prompt="one one one one one one", max_tokens=8, temperature=0)
    plain = client.completions.create(**rep).choices[0].text
    penalized = client.completions.create(frequency_penalty=2.0, presence_penalty=2.0, **rep).choices[0].text
    assert plain != penalized
    # top_p, min_p and unknown fields are accepted (unknown ones ignored)
    r = client.completions.create(temperature=0.7, top_p=0.5, seed=1,
                                  extra_body={"min_p": 0.1, "no_such_field": {"x": 1}, "top_k": 20}, **kw)
    assert r.choices[0].text


def test_stop_strings(client):
    kw = dict(model="SmolLM2-135M-Instruct.Q4_1", prompt="The capital of France is", temperature=0, max_tokens=12)
    full = client.completions.create(**kw).choices[0].text
    stop = full[5:8]
    assert stop
    r = client.completions.create(stop=[stop, "zzzz"], **kw)
    assert r.choices[0].text == full[:full.index(stop)]
    assert r.choices[0].finish_reason == "stop"
    chunks = list(client.completions.create(stop=stop, stream=True, **kw))
    assert "".join(c.choices[0].text for c in chunks) == full[:full.index(stop)]


def test_conversation_continues_without_refeeding(client):
    r1 = client.chat.completions.create(model="SmolLM2-135M-Instruct.Q4_1", messages=QUESTION, temperature=0,
                                        max_tokens=12)
    history = QUESTION + [{"role": "assistant", "content": r1.choices[0].message.content},
                          {"role": "user", "content": "And of Germany?"}]
    r2 = client.chat.completions.create(model="SmolLM2-135M-Instruct.Q4_1", messages=history, temperature=0,
                                        max_tokens=12)
    cached = r2.usage.prompt_tokens_details.cached_tokens
    # Everything of the first turn, the reply included, was in a slot already: only the new
    # user message (and the turn markers) is fed.
    assert cached >= r1.usage.prompt_tokens + r1.usage.completion_tokens - 1
    assert r2.usage.prompt_tokens - cached < 20
    assert "Berlin" in r2.choices[0].message.content


def test_models_health_metrics_tokenize(server, client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["SmolLM2-135M-Instruct.Q4_1"]
    status, body = server.get("/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = server.get("/metrics")
    assert status == 200
    for name in ("vkstream_prompt_tokens_total", "vkstream_generated_tokens_total", "vkstream_requests_active",
                 "vkstream_requests_queued", "vkstream_kv_bytes", "vkstream_generated_tokens_per_second"):
        assert f"\n{name} " in "\n" + body, name
    kv = [float(l.split()[1]) for l in body.splitlines() if l.startswith("vkstream_kv_bytes ")][0]
    assert kv > 0

    def post(path, obj):
        req = urllib.request.Request(server.url + path, data=json.dumps(obj).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    toks = post("/tokenize", {"content": "Hello world"})["tokens"]
    assert len(toks) == 2
    assert post("/detokenize", {"tokens": toks})["content"] == "Hello world"


def test_the_ring_rolls_a_conversation_never_fails_for_length(make_server):
    from openai import OpenAI
    s = make_server(window=60)  # 64 cache slots: each turn below pushes old ones out
    c = OpenAI(base_url=s.url + "/v1", api_key="x", max_retries=0, timeout=120)
    messages = []
    for i in range(4):
        messages.append({"role": "user", "content": f"Tell me one fact about the number {i + 2}."})
        r = c.chat.completions.create(model="SmolLM2-135M-Instruct.Q4_1", messages=messages, temperature=0,
                                      max_tokens=24)
        messages.append({"role": "assistant", "content": r.choices[0].message.content})
        assert r.choices[0].message.content
    assert r.usage.prompt_tokens > 64  # the conversation is longer than the cache
    assert r.usage.prompt_tokens_details.cached_tokens > 0  # and was still not fed again


def test_a_large_body_with_curls_default_content_type(server):
    # `curl -d` sends application/x-www-form-urlencoded; httplib would parse that as form fields
    # and refuse it past 8 KiB. The server reads bodies itself and takes them as JSON.
    body = ('{"prompt": "The capital of France is",' + " " * 20000 + '"max_tokens": 2, "temperature": 0}').encode()
    req = urllib.request.Request(server.url + "/v1/completions", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=120) as r:
        out = json.loads(r.read())
    assert out["choices"][0]["text"].startswith(" Paris")
