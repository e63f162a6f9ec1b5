"""Bad input gets a clear JSON error (or a timeout) and the server keeps serving everyone else."""
import json
import select
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

MODEL = "SmolLM2-135M-Instruct.Q4_1"


def post(server, path, body, headers=None, raw=False):
    """POST; returns (status, parsed JSON body)."""
    data = body if raw else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def assert_error(status, body, want_status, words):
    assert status == want_status, (status, body)
    err = body["error"]
    assert isinstance(err["message"], str) and err["type"]
    for w in words:
        assert w in err["message"], (w, err["message"])


def still_serves(server):
    status, body = post(server, "/v1/completions", {"prompt": "The capital of France is", "max_tokens": 2,
                                                    "temperature": 0})
    assert status == 200 and body["choices"][0]["text"].startswith(" Paris")


@pytest.mark.parametrize("body,want,words", [
    (b"{not json", 400, ["not valid JSON"]),
    (b"[1, 2]", 400, ["JSON object"]),
    (b"{\"messages\": \"hi\"}", 400, ["'messages'"]),
    (b"{}", 400, ["'messages' is required"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", 400, ["content"]),
    (b"{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", 400, ["wizard"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": \"hot\"}", 400, ["temperature"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": 9}", 400, ["temperature"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": -1}", 400, ["max_tokens"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 1.5}", 400, ["max_tokens"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 2}", 400, ["top_p"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": [1]}", 400, ["stop"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream\": \"yes\"}", 400, ["stream"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"seed\": \"abc\"}", 400, ["seed"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 3}", 400, ["n"]),
    (b"{\"messages\": [{\"role\": \"user\", \"content\": \"\\xff\"}]}", 400, ["JSON"]),
])
def test_malformed_json_and_wrong_types(server, body, want, words):
    status, err = post(server, "/v1/chat/completions", body, raw=True)
    assert_error(status, err, want, words)


def test_other_endpoints_check_their_input(server):
    assert_error(*post(server, "/v1/completions", {"prompt": 7}), 400, ["'prompt'"])
    assert_error(*post(server, "/tokenize", {"content": 7}), 400, ["'content'"])
    assert_error(*post(server, "/detokenize", {"tokens": [1, -5]}), 400, ["-5"])
    assert_error(*post(server, "/detokenize", {"tokens": [10 ** 12]}), 400, ["token id"])
    assert_error(*post(server, "/detokenize", {"tokens": "abc"}), 400, ["'tokens'"])
    try:
        urllib.request.urlopen(server.url + "/no/such/thing", timeout=10)
        assert False, "404 expected"
    except urllib.error.HTTPError as e:
        assert e.code == 404 and json.loads(e.read())["error"]["message"]
    still_serves(server)


def test_unknown_model(server):
    from openai import OpenAI, NotFoundError
    c = OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(NotFoundError) as e:
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert "gpt-4o" in str(e.value)


def test_prompt_longer_than_the_limit(make_server):
    s = make_server("--max-prompt-tokens", "100")
    status, body = post(s, "/v1/completions", {"prompt": "word " * 500, "max_tokens": 1})
    assert_error(status, body, 400, ["tokens", "100"])
    assert body["error"]["code"] == "context_length_exceeded"
    still_serves(s)


def test_the_prompt_limit_counts_only_the_tokens_to_feed(make_server):
    # A conversation resent and continued grows past --max-prompt-tokens without being refused:
    # the limit bounds the work of one request (the new tokens), not the conversation the slot
    # holds. A continuation that would feed too much is refused and the conversation survives it.
    s = make_server("--max-prompt-tokens", "100")
    prompt = "word " * 60
    for _ in range(3):
        status, body = post(s, "/v1/completions", {"prompt": prompt, "max_tokens": 3, "temperature": 0})
        assert status == 200, body
        prompt += body["choices"][0]["text"] + " word" * 60
    assert body["usage"]["prompt_tokens"] > 100 and body["timings"]["prompt_n"] <= 100, body
    assert body["timings"]["prompt_cached"] > 100, body["timings"]
    status, body = post(s, "/v1/completions", {"prompt": prompt + " word" * 150, "max_tokens": 1})
    assert_error(status, body, 400, ["tokens to feed", "100"])
    assert body["error"]["code"] == "context_length_exceeded"
    status, body = post(s, "/v1/completions", {"prompt": prompt + " again", "max_tokens": 1, "temperature": 0})
    assert status == 200, body
    assert body["timings"]["prompt_cached"] > 100, body["timings"]  # the refused request lost nothing


def test_a_100_mb_body_gets_413(server):
    # Claim 100 MB, send the first megabyte: the server answers 413 without reading the rest.
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 104857600\r\n\r\n")
        try:
            sock.sendall(b"{\"messages\": \"" + b"a" * (1 << 20))
        except OSError:
            pass  # the server may close before taking it all
        reply = b""
        while True:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            reply += part
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), reply[:200]
    assert "larger than" in json.loads(body)["error"]["message"]
    still_serves(server)


def test_api_key(make_server):
    from openai import OpenAI, AuthenticationError
    s = make_server("--api-key", "sekrit")
    assert s.get("/health")[0] == 200  # open: load balancers probe it
    assert s.get("/")[0] == 200        # the page itself (no data); its API calls need the key
    for path in ("/v1/models", "/metrics"):
        try:
            urllib.request.urlopen(s.url + path, timeout=10)
            assert False, path + " answered without a key"
        except urllib.error.HTTPError as e:
            assert e.code == 401 and "API key" in json.loads(e.read())["error"]["message"]
    assert_error(*post(s, "/tokenize", {"content": "x"}, headers={"Authorization": "Bearer wrong"}), 401, ["API key"])
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=s.url + "/v1", api_key="wrong", max_retries=0).models.list()
    good = OpenAI(base_url=s.url + "/v1", api_key="sekrit", max_retries=0)
    assert good.models.list().data[0].id == MODEL
    assert s.get("/metrics", headers={"Authorization": "Bearer sekrit"})[0] == 200


def test_binds_loopback_by_default(server):
    assert "on http://127.0.0.1:" in server.output()


def test_a_client_sending_one_byte_a_second_times_out(make_server):
    s = make_server("--request-timeout", "3")
    result = {}

    def slow():
        with socket.create_connection(("127.0.0.1", s.port), timeout=30) as sock:
            request = (b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 40\r\n\r\n" + b" " * 40)
            start = time.monotonic()
            result["reply"] = b""
            try:
                for b in request:
                    # Like a client that reads while it writes: an early answer is seen at once.
                    if select.select([sock], [], [], 0)[0]:
                        break
                    sock.sendall(bytes([b]))
                    time.sleep(1.0)
                    if time.monotonic() - start > 20:
                        break
                result["reply"] = sock.recv(4096)
            except OSError as e:
                result["reply"] += b"closed: " + str(e).encode()
            result["secs"] = time.monotonic() - start

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    still_serves(s)  # meanwhile everyone else is served
    t.join(timeout=40)
    assert not t.is_alive()
    assert result["secs"] < 10, result  # cut off after the 3 s request deadline, not after the whole request
    assert result["reply"].startswith(b"HTTP/1.1 408"), result
    assert b"not received in time" in result["reply"]
    still_serves(s)
