"""--sessions DIR: a conversation continues after a restart exactly as without the restart."""
from openai import OpenAI

MODEL = "SmolLM2-135M-Instruct.Q4_1"
TURN1 = [{"role": "user", "content": "Write two sentences about the sea."}]


def chat(server, messages, max_tokens):
    c = OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0, timeout=120)
    r = c.chat.completions.create(model=MODEL, messages=messages, temperature=0, max_tokens=max_tokens)
    return r, r.model_extra.get("timings", {})


def turn2(reply1):
    return TURN1 + [{"role": "assistant", "content": reply1}, {"role": "user", "content": "Now one about the sky."}]


def test_conversation_resumes_after_restart_identically(make_server, tmp_path):
    sessions = tmp_path / "sessions"
    # A 32-token cache: the first turn (about 40 prompt tokens) already rolls the ring, so the
    # saved state is a wrapped one.
    a = make_server("--sessions", str(sessions), window=28)
    r1, _ = chat(a, TURN1, 16)
    assert a.stop() == 0
    assert len(list(sessions.glob("*.state"))) == 1
    # The index identifies the text the cache holds by its size and SHA-256, not the text itself
    # (a conversation that never ends would grow it without bound).
    import json
    index = json.loads(next(sessions.glob("*.json")).read_text())
    assert set(index) == {"size", "sha256", "n_past"}
    assert index["size"] > len(TURN1[0]["content"]) and len(index["sha256"]) == 64

    b = make_server("--sessions", str(sessions), window=28)
    r2, t2 = chat(b, turn2(r1.choices[0].message.content), 12)
    assert t2["restored"] is True
    assert r2.usage.prompt_tokens_details.cached_tokens > r1.usage.prompt_tokens  # not fed again

    ref = make_server(window=28)  # the same two turns, no restart
    q1, _ = chat(ref, TURN1, 16)
    assert q1.choices[0].message.content == r1.choices[0].message.content
    q2, tq = chat(ref, turn2(q1.choices[0].message.content), 12)
    assert tq["restored"] is False and tq["prompt_cached"] == t2["prompt_cached"]
    assert q2.choices[0].message.content == r2.choices[0].message.content
    assert q2.choices[0].message.content


def test_damaged_saved_state_is_served_fresh(make_server, tmp_path):
    sessions = tmp_path / "sessions"
    a = make_server("--sessions", str(sessions), window=28)
    r1, _ = chat(a, TURN1, 4)
    assert a.stop() == 0
    state = next(sessions.glob("*.state"))
    blob = bytearray(state.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    state.write_bytes(bytes(blob))
    b = make_server("--sessions", str(sessions), window=28)
    r2, t2 = chat(b, turn2(r1.choices[0].message.content), 4)
    assert t2["restored"] is False and t2["prompt_cached"] == 0  # refused, fed from scratch
    assert r2.choices[0].message.content
    assert "cannot restore" in b.output()
