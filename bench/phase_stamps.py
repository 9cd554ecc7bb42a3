#!/usr/bin/env python3
"""Where a request's time goes outside its engine call, step by step: for `bench/server_text.py
--phases`, which runs a server built with the steps stamped (`-DSTRATA_PHASE_STAMPS`, see
Sources/StrataServer/PhaseStamps.swift), the engine floor with `--stamps` and the client
(bench/loadgen.c) with `--stamps`. The three processes read the same CLOCK_MONOTONIC, so a
request's server steps fall between its client's send and receipt.

Each file holds little-endian 64-bit nanosecond counts, a fixed number a request:
- the client's: send, receipt of the whole answer (2);
- Strata's: PhaseStamps.Step's eight, 0 for a step not taken (no read for a request the busy
  poll caught);
- the floor's: read's return, call start, call end, writev's return (4).

A request is matched to the server row whose call started between its send and receipt (a
request the server answered on another path has no row there, and is left out). The steps are
reported over the requests sent after a pause (even ones) and back to back (odd ones), as
`loadgen --paired` splits them, as medians in microseconds.

    python3 bench/phase_stamps.py CLIENT_STAMPS SERVER_STAMPS (--strata | --floor)
"""

from __future__ import annotations

import argparse
import bisect
import json
import statistics
import struct
from pathlib import Path

STRATA_SLOTS, FLOOR_SLOTS = 8, 4
READ, FRAMED, PREPARED, CALL_START, CALL_END, ANSWERED, HEAD_WRITTEN, SENT = range(STRATA_SLOTS)


def rows(path: Path, slots: int) -> list[tuple[int, ...]]:
    """The file's rows of `slots` counts each (a partial last row, from a server stopped while
    writing, is dropped)."""
    data = path.read_bytes()
    size = 8 * slots
    return [struct.unpack_from(f"<{slots}q", data, at) for at in range(0, len(data) - size + 1, size)]


def matched(client: list[tuple[int, ...]], server: list[tuple[int, ...]], call_start: int) -> list[tuple | None]:
    """For each client request, the server row whose call started between its send and receipt."""
    server = sorted((r for r in server if r[call_start] > 0), key=lambda r: r[call_start])
    starts = [r[call_start] for r in server]
    out = []
    for sent, received in client:
        at = bisect.bisect_left(starts, sent)
        out.append(server[at] if at < len(starts) and starts[at] <= received else None)
    return out


def _median_us(values: list[int]) -> float | None:
    return round(statistics.median(values) / 1e3, 1) if values else None


def strata_steps(client: list[tuple[int, ...]], server: list[tuple[int, ...]]) -> dict:
    """Strata's steps, after a pause and back to back."""
    pairs = list(zip(client, matched(client, server, CALL_START)))
    out = {}
    for half, parity in (("after_pause", 0), ("back_to_back", 1)):
        mine = [(c, s) for i, (c, s) in enumerate(pairs) if i % 2 == parity and s is not None]
        read = [(c, s) for c, s in mine if s[READ] > 0]
        out[half] = {
            "requests": len(mine), "caught_by_busy_poll": len(mine) - len(read),
            # Before the first handler: the client's send, the loopback, the wake-up, SwiftNIO's read.
            "send_to_first_handler": _median_us([s[READ] - c[0] for c, s in read]),
            "framing": _median_us([s[FRAMED] - s[READ] for c, s in read]),
            "send_to_framed": _median_us([s[FRAMED] - c[0] for c, s in mine]),
            "head_token_parse_query": _median_us([s[PREPARED] - s[FRAMED] for c, s in mine]),
            "queue_admission": _median_us([s[CALL_START] - s[PREPARED] for c, s in mine]),
            "call": _median_us([s[CALL_END] - s[CALL_START] for c, s in mine]),
            "bookkeeping_and_json": _median_us([s[ANSWERED] - s[CALL_END] for c, s in mine]),
            "head": _median_us([s[HEAD_WRITTEN] - s[ANSWERED] for c, s in mine]),
            "metrics_and_send": _median_us([s[SENT] - s[HEAD_WRITTEN] for c, s in mine]),
            "sent_to_client": _median_us([c[1] - s[SENT] for c, s in mine]),
            "latency_minus_call": _median_us([(c[1] - c[0]) - (s[CALL_END] - s[CALL_START]) for c, s in mine]),
        }
    return out


def floor_steps(client: list[tuple[int, ...]], server: list[tuple[int, ...]]) -> dict:
    """The engine floor's steps (its call includes the request's parse and the answer's JSON)."""
    pairs = list(zip(client, matched(client, server, 1)))
    out = {}
    for half, parity in (("after_pause", 0), ("back_to_back", 1)):
        mine = [(c, s) for i, (c, s) in enumerate(pairs) if i % 2 == parity and s is not None]
        out[half] = {
            "requests": len(mine),
            "send_to_read": _median_us([s[0] - c[0] for c, s in mine]),
            "to_call": _median_us([s[1] - s[0] for c, s in mine]),
            "call": _median_us([s[2] - s[1] for c, s in mine]),
            "head_and_writev": _median_us([s[3] - s[2] for c, s in mine]),
            "sent_to_client": _median_us([c[1] - s[3] for c, s in mine]),
            "latency_minus_call": _median_us([(c[1] - c[0]) - (s[2] - s[1]) for c, s in mine]),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("client", type=Path)
    parser.add_argument("server", type=Path)
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--strata", action="store_true")
    kind.add_argument("--floor", action="store_true")
    args = parser.parse_args()
    client = rows(args.client, 2)
    if args.strata:
        print(json.dumps(strata_steps(client, rows(args.server, STRATA_SLOTS)), indent=2))
    else:
        print(json.dumps(floor_steps(client, rows(args.server, FLOOR_SLOTS)), indent=2))


if __name__ == "__main__":
    main()
