"""The client side of RFC 6455 (WebSocket), as much as ``strata serve``'s ``/v1/events`` needs:
the opening handshake, text and control frames, masking, fragmentation and the closing
handshake, on the standard library alone (``socket``, ``ssl``, ``hashlib``, ``base64``).

Private to the package: :class:`strata.EventStream` is the public face.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
import struct
import threading

# RFC 6455 section 1.3: the server proves it read the key by hashing it with this GUID.
_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: Close code when the peer's close frame carried none (RFC 6455 section 7.1.5).
NO_STATUS = 1005
#: Close code when the connection ended without a close frame (section 7.1.5).
ABNORMAL = 1006


class HandshakeRefused(Exception):
    """The server answered the upgrade with something other than 101 (status and body kept)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


class Closed(Exception):
    """The connection closed: ``code`` from the peer's close frame (1005 without one, 1006 when
    the connection ended with no close frame at all) and its ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}" if reason else f"closed with {code}")
        self.code = code
        self.reason = reason


class WebSocket:
    """One client connection. ``receive`` is for one thread; ``close`` may be called from any."""

    def __init__(self, host: str, port: int, target: str, headers: dict[str, str], *, tls: bool, timeout: float | None) -> None:
        raw = socket.create_connection((host, port), timeout=timeout)
        if tls:
            raw = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
        self._sock = raw
        self._buffer = b""
        self._send_lock = threading.Lock()
        self._closing = False
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        try:
            self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            status, answer_headers = self._read_head()
            if status != 101:
                length = int(answer_headers.get("content-length", "0") or 0)
                raise HandshakeRefused(status, self._read_exactly(min(length, 1 << 16)) if length else b"")
            expected = base64.b64encode(hashlib.sha1(key.encode("ascii") + _ACCEPT_GUID).digest()).decode("ascii")
            if answer_headers.get("sec-websocket-accept") != expected or answer_headers.get("upgrade", "").lower() != "websocket":
                raise HandshakeRefused(status, b"the server's 101 answer is not a WebSocket upgrade")
            self._sock.settimeout(None)  # events come when they come; close() unblocks a reader
        except BaseException:
            self._sock.close()
            raise

    # ---- reading --------------------------------------------------------------------------------

    def _fill(self) -> None:
        chunk = self._sock.recv(1 << 16)
        if not chunk:
            raise Closed(ABNORMAL, "the connection ended without a close frame")
        self._buffer += chunk

    def _read_exactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._fill()
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def _read_head(self) -> tuple[int, dict[str, str]]:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > 1 << 16:
                raise HandshakeRefused(0, b"the server's answer headers are too long")
            self._fill()
        head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4:]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HandshakeRefused(0, f"not an HTTP answer: {lines[0]!r}".encode())
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    def _frame(self) -> tuple[bool, int, bytes]:
        first, second = self._read_exactly(2)
        fin, opcode = bool(first & 0x80), first & 0x0F
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exactly(8))
        mask = self._read_exactly(4) if second & 0x80 else None  # a server must not mask; accepted anyway
        payload = self._read_exactly(length)
        if mask is not None:
            payload = _masked(payload, mask)
        return fin, opcode, payload

    def receive(self) -> str:
        """The next text message. Answers pings; raises :class:`Closed` when the connection closes
        (after answering the server's close frame)."""
        parts: list[bytes] = []
        while True:
            try:
                fin, opcode, payload = self._frame()
            except (OSError, Closed) as error:
                if self._closing:
                    raise Closed(1000, "closed by this client") from None
                if isinstance(error, Closed):
                    raise
                raise Closed(ABNORMAL, str(error)) from error
            if opcode == OP_PING:
                self._send(OP_PONG, payload)
            elif opcode == OP_PONG:
                continue
            elif opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else NO_STATUS
                reason = payload[2:].decode("utf-8", "replace")
                try:  # the closing handshake: echo the code, then the server ends the TCP connection
                    self._send(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                self._shutdown()
                raise Closed(code, reason)
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8")
            else:
                self._shutdown()
                raise Closed(1002, f"the server sent an unknown opcode {opcode:#x}")

    # ---- writing --------------------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes) -> None:
        # RFC 6455 section 5.3: every frame a client sends is masked.
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        with self._send_lock:
            self._sock.sendall(head + mask + _masked(payload, mask))

    def close(self, code: int = 1000) -> None:
        """Sends a close frame and ends the connection; a reader blocked in :meth:`receive` wakes
        with :class:`Closed`. Calling it again does nothing."""
        if self._closing:
            return
        self._closing = True
        try:
            self._send(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        self._shutdown()

    def _shutdown(self) -> None:
        self._closing = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


def _masked(payload: bytes, mask: bytes) -> bytes:
    if not payload:
        return payload
    # XOR with the 4-byte mask repeated, done on one big integer rather than byte by byte.
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(len(payload), "little")
