"""A minimal pcap writer for tests: Ethernet/IPv4/TCP frames of one client-server conversation."""

from __future__ import annotations

import struct
from typing import List, Tuple

Frame = Tuple[float, bytes]

CLIENT = bytes([192, 168, 1, 50])
SERVER = bytes([204, 194, 111, 66])


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_frame(
    src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes
) -> bytes:
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(header) + len(payload))
    csum = _checksum(pseudo + header + payload)
    tcp = header[:16] + struct.pack("!H", csum) + header[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    eth = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb" + b"\x08\x00"
    return eth + ip + tcp + payload


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def post(
    body: bytes,
    *,
    start: float,
    port: int,
    path: str = "/Data/SMS2DataCollector.aspx",
    segments: int = 1,
    declared: int | None = None,
) -> List[Frame]:
    """The frames of one connection carrying one POST, its bytes cut into `segments` segments."""
    length = len(body) if declared is None else declared
    request = (
        f"POST {path} HTTP/1.1\r\nHost: collector\r\nContent-Length: {length}\r\n\r\n".encode()
        + body
    )
    c, s = 1000, 5000
    frames: List[Frame] = [
        (start, tcp_frame(CLIENT, SERVER, port, 80, c, 0, SYN, b"")),
        (start + 0.01, tcp_frame(SERVER, CLIENT, 80, port, s, c + 1, SYN | ACK, b"")),
        (start + 0.02, tcp_frame(CLIENT, SERVER, port, 80, c + 1, s + 1, ACK, b"")),
    ]
    step = -(-len(request) // segments)
    seq = c + 1
    for i in range(0, len(request), step):
        chunk = request[i : i + step]
        frames.append((start + 0.03 + i * 1e-6, tcp_frame(CLIENT, SERVER, port, 80, seq, s + 1, PSH | ACK, chunk)))
        seq += len(chunk)
    frames.append((start + 0.5, tcp_frame(CLIENT, SERVER, port, 80, seq, s + 1, FIN | ACK, b"")))
    return frames


def pcap(frames: List[Frame]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for ts, frame in frames:
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return b"".join(out)
