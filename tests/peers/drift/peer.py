"""The Drift peer's driver: JSON lines in, JSON lines out. Runs in the PEER virtual environment
(``driftpyrs==0.1.0``; see README "Drift peer"), never under pytest: the perpspec side
(``compare.py``) starts it as a subprocess and writes one request per line:

- ``{"kind": "margin", "id": ..., "deposit": int, "positions": [[market, base, quote], ...],
  "markets": [{Market fields}], "prices": {market: price}}`` ->
  ``{"id": ..., "initial": [tc, mr], "maintenance": [tc, mr]}`` (Drift units: 1e-6 USDC);
- ``{"kind": "ratio", "id": ..., "market": {Market fields}, "size": int, "type":
  "initial"|"fill"|"maintenance", "high_leverage": bool}`` -> ``{"id": ..., "ratio": int}``;
- an error is ``{"id": ..., "error": "..."}``.

End of input ends the process with ``os._exit`` (the library may crash at teardown).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drift_ffi import Market, Peer, PerpPos


def _market(d: dict[str, int]) -> Market:
    return Market(**d)


def handle(peer: Peer, req: dict) -> dict:
    if req["kind"] == "ratio":
        r = peer.margin_ratio(_market(req["market"]), req["size"], req["type"], req["high_leverage"])
        return {"id": req["id"], "ratio": r}
    markets = [_market(m) for m in req["markets"]]
    prices = {int(k): v for k, v in req["prices"].items()}
    positions = [PerpPos(m, b, q) for m, b, q in req["positions"]]
    out: dict = {"id": req["id"]}
    for kind in ("initial", "maintenance"):
        out[kind] = list(peer.margin(req["deposit"], positions, markets, prices, kind))
    return out


def main() -> None:
    peer = Peer()
    write = sys.stdout.write
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            res = handle(peer, req)
        except Exception as exc:  # reported to the perpspec side, which fails the comparison
            res = {"id": req.get("id"), "error": f"{type(exc).__name__}: {exc}"}
        write(json.dumps(res) + "\n")
        sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
