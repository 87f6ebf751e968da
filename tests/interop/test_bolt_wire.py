"""Raw-socket checks of the Bolt handshake and framing against the real server."""
import socket
import struct
import time

MAGIC = b"\x60\x60\xB0\x17"


def handshake(server, slots):
    s = socket.create_connection(("127.0.0.1", server.bolt_port), timeout=5)
    s.sendall(MAGIC + b"".join(bytes(x) for x in slots))
    return s


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def test_legacy_versions(server):
    for slots, want in [
        ([[0, 0, 1, 4], [0, 0, 0, 1], [0] * 4, [0] * 4], [0, 0, 1, 4]),      # mgclient 1.5 / neo4rs 0.8
        ([[0, 0, 4, 4], [0, 0, 3, 4], [0, 0, 1, 4], [0, 0, 0, 1]], [0, 0, 4, 4]),  # pymgclient 1.6
        ([[0, 8, 8, 5], [0, 2, 4, 4], [0, 0, 0, 3], [0] * 4], [0, 0, 8, 5]),
        ([[0, 0, 5, 5], [0, 1, 5, 5], [0] * 4, [0] * 4], [0, 0, 4, 5]),      # never 5.5
    ]:
        s = handshake(server, slots)
        assert list(recv_exact(s, 4)) == want
        s.close()


def test_no_match_gets_zeros_and_is_logged(server):
    s = handshake(server, [[0, 0, 0, 3], [0, 0, 0, 2], [0, 0, 0, 1], [0] * 4])
    assert recv_exact(s, 4) == b"\x00\x00\x00\x00"
    assert s.recv(1) == b""
    s.close()
    deadline = time.time() + 15  # the log line is written asynchronously
    while "no common Bolt version" not in server.read_log() and time.time() < deadline:
        time.sleep(0.05)
    assert "no common Bolt version" in server.read_log()


def test_manifest_reply_is_one_segment(server):
    s = handshake(server, [[0, 0, 1, 0xFF], [0, 8, 8, 5], [0, 2, 4, 4], [0, 0, 0, 3]])
    data = s.recv(4096)  # the whole manifest must be in the first read
    assert data[:4] == b"\x00\x00\x01\xFF"
    n = data[4]
    assert len(data) == 5 + 4 * n + 1
    offered = [tuple(data[5 + 4 * i: 9 + 4 * i]) for i in range(n)]
    assert (0, 0, 5, 5) not in offered
    s.close()


def test_server_survives_garbage(server):
    for junk in [b"\x16\x03\x01\x02\x00", b"hello world\r\n", MAGIC + b"\x00" * 3]:
        s = socket.create_connection(("127.0.0.1", server.bolt_port), timeout=5)
        try:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            s.recv(100)
        except OSError:
            pass  # the server may already have closed it
        s.close()
    # Still serving.
    s = handshake(server, [[0, 0, 4, 4], [0] * 4, [0] * 4, [0] * 4])
    assert list(recv_exact(s, 4)) == [0, 0, 4, 4]
    s.close()


def test_http_get_on_bolt_port(server):
    s = socket.create_connection(("127.0.0.1", server.bolt_port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 400")
    s.close()


def _pack_str(s):
    b = s.encode()
    if len(b) < 16:
        return bytes([0x80 | len(b)]) + b
    if len(b) < 256:
        return bytes([0xD0, len(b)]) + b
    return bytes([0xD1]) + struct.pack(">H", len(b)) + b


def _pack(v):
    if v is None:
        return b"\xC0"
    if isinstance(v, bool):
        return b"\xC3" if v else b"\xC2"
    if isinstance(v, int):
        return bytes([0xCB]) + struct.pack(">q", v)
    if isinstance(v, str):
        return _pack_str(v)
    if isinstance(v, dict):
        return bytes([0xA0 | len(v)]) + b"".join(_pack_str(k) + _pack(x) for k, x in v.items())
    raise TypeError(v)


def _message(tag, *fields):
    body = bytes([0xB0 | len(fields), tag]) + b"".join(_pack(f) for f in fields)
    return struct.pack(">H", len(body)) + body + b"\x00\x00"


def _recv_message(s):
    """Returns the tag of the next message (NOOPs skipped)."""
    body = b""
    while True:
        (n,) = struct.unpack(">H", recv_exact(s, 2))
        if n == 0:
            if body:
                return body[1]
            continue
        body += recv_exact(s, n)


def test_reset_interrupts_a_running_query(server):
    s = handshake(server, [[0, 0, 4, 5], [0] * 4, [0] * 4, [0] * 4])
    assert list(recv_exact(s, 4)) == [0, 0, 4, 5]
    s.sendall(_message(0x01, {"user_agent": "wire-test"}) + _message(0x6A, {"scheme": "basic", "principal": "neo4j", "credentials": "password"}))
    assert _recv_message(s) == 0x70
    assert _recv_message(s) == 0x70
    s.settimeout(30)
    s.sendall(
        _message(0x10, "UNWIND range(1, 2000000000) AS i WITH i WHERE i < 0 RETURN count(i) AS c", {}, {})
        + _message(0x3F, {"n": -1})
    )
    time.sleep(0.5)
    t = time.time()
    s.sendall(_message(0x0F))
    tags = []
    while not tags or tags[-1] != 0x70 or len(tags) < 3:
        tags.append(_recv_message(s))
        if len(tags) >= 3:
            break
    # RUN answered (or interrupted), PULL interrupted, RESET succeeded: all within seconds.
    assert tags[-1] == 0x70, tags
    assert time.time() - t < 10
    s.sendall(_message(0x10, "RETURN 1 AS x", {}, {}) + _message(0x3F, {"n": -1}))
    assert [_recv_message(s) for _ in range(3)] == [0x70, 0x71, 0x70]
    s.close()
