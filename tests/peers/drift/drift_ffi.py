"""Drift protocol-v2's own margin code, called through ``libdrift_ffi_sys`` (bundled in the
``driftpyrs`` 0.1.0 wheel) with ctypes. Runs ONLY in the peer virtual environment (see
README "Drift peer"); it imports nothing from perpspec.

Account bytes are laid out by hand from the program's ``#[repr(C)]`` zero-copy structs at
protocol-v2 ``bcaf43e`` (the commit the wheel's library was built from; u128 aligned to 8,
which gives exactly the program's ``Size`` constants: User 4376, PerpMarket 1216,
SpotMarket 776, PrelaunchOracle 120 bytes with the 8-byte discriminator).
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import importlib.util
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

# --- program constants --------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(s: str) -> bytes:
    n = 0
    for c in s:
        n = n * 58 + _B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    pad = len(s) - len(s.lstrip("1"))
    out = b"\0" * pad + raw
    return out.rjust(32, b"\0")


DRIFT_PROGRAM_ID = b58decode("dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH")


def discriminator(name: str) -> bytes:
    return hashlib.sha256(f"account:{name}".encode()).digest()[:8]


# sizes without the discriminator, and field offsets (protocol-v2 @ bcaf43e, state/*.rs)
USER_SIZE, PERP_MARKET_SIZE, SPOT_MARKET_SIZE, PRELAUNCH_SIZE = 4368, 1208, 768, 112
PERP_POSITION_SIZE, SPOT_POSITION_SIZE = 96, 40
U = {"spot_positions": 96, "perp_positions": 416, "max_margin_ratio": 4332, "margin_mode": 4347}
PP = {"base_asset_amount": 8, "quote_asset_amount": 16, "quote_entry_amount": 32, "market_index": 92}
SP = {"scaled_balance": 0, "market_index": 32, "balance_type": 34}
PM = {
    "pubkey": 0,
    "amm.oracle": 32,
    "amm.last_oracle_price": 64,
    "amm.last_oracle_price_twap": 88,
    "amm.last_oracle_price_twap_5min": 96,
    "amm.order_step_size": 800,
    "amm.order_tick_size": 808,
    "amm.oracle_source": 918,
    "imf_factor": 1112,
    "unrealized_pnl_imf_factor": 1116,
    "margin_ratio_initial": 1128,
    "margin_ratio_maintenance": 1132,
    "unrealized_pnl_initial_asset_weight": 1136,
    "unrealized_pnl_maintenance_asset_weight": 1140,
    "unrealized_pnl_max_imbalance": 1064,
    "market_index": 1152,
    "status": 1154,
    "contract_type": 1155,
    "quote_spot_market_index": 1158,
    "high_leverage_margin_ratio_initial": 1166,
    "high_leverage_margin_ratio_maintenance": 1168,
}
SM = {
    "pubkey": 0,
    "oracle": 32,
    "last_oracle_price": 160,
    "last_oracle_price_twap": 184,
    "last_oracle_price_twap_5min": 192,
    "cumulative_deposit_interest": 456,
    "cumulative_borrow_interest": 472,
    "initial_asset_weight": 632,
    "maintenance_asset_weight": 636,
    "initial_liability_weight": 640,
    "maintenance_liability_weight": 644,
    "decimals": 672,
    "market_index": 676,
    "oracle_source": 679,
    "status": 680,
}
PO = {"price": 0, "max_price": 8, "confidence": 16, "last_update_slot": 24, "perp_market_index": 40}

ORACLE_QUOTE_ASSET, ORACLE_PRELAUNCH = 2, 6
STATUS_ACTIVE = 1
MARGIN_MODE = {"default": 0, "high-leverage": 1, "high-leverage-maintenance": 2}
REQUIREMENT = {"initial": 0, "fill": 1, "maintenance": 2}


def _put(buf: bytearray, off: int, fmt: str, value: int) -> None:
    struct.pack_into("<" + fmt, buf, off, value)


def _put128(buf: bytearray, off: int, value: int) -> None:
    buf[off : off + 16] = value.to_bytes(16, "little", signed=True)


# --- account builders ---------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """The margin parameters of one perp market (Drift units)."""

    index: int
    margin_ratio_initial: int
    margin_ratio_maintenance: int
    imf_factor: int = 0
    high_leverage_margin_ratio_initial: int = 0
    high_leverage_margin_ratio_maintenance: int = 0
    unrealized_pnl_initial_asset_weight: int = 10_000
    unrealized_pnl_maintenance_asset_weight: int = 10_000
    unrealized_pnl_imf_factor: int = 0


def _key(tag: str, i: int) -> bytes:
    return hashlib.sha256(f"perpspec-peer/{tag}/{i}".encode()).digest()


def perp_market_data(m: Market, price: int) -> bytes:
    buf = bytearray(PERP_MARKET_SIZE)
    buf[0:32] = _key("perp", m.index)
    buf[32:64] = _key("oracle", m.index)
    for name in ("amm.last_oracle_price", "amm.last_oracle_price_twap", "amm.last_oracle_price_twap_5min"):
        _put(buf, PM[name], "q", price)
    _put(buf, PM["amm.order_step_size"], "Q", 1)
    _put(buf, PM["amm.order_tick_size"], "Q", 1)
    buf[PM["amm.oracle_source"]] = ORACLE_PRELAUNCH
    for name in (
        "imf_factor",
        "unrealized_pnl_imf_factor",
        "margin_ratio_initial",
        "margin_ratio_maintenance",
        "unrealized_pnl_initial_asset_weight",
        "unrealized_pnl_maintenance_asset_weight",
    ):
        _put(buf, PM[name], "I", getattr(m, name))
    _put(buf, PM["high_leverage_margin_ratio_initial"], "H", m.high_leverage_margin_ratio_initial)
    _put(buf, PM["high_leverage_margin_ratio_maintenance"], "H", m.high_leverage_margin_ratio_maintenance)
    _put(buf, PM["market_index"], "H", m.index)
    buf[PM["status"]] = STATUS_ACTIVE
    return discriminator("PerpMarket") + bytes(buf)


def quote_spot_market_data() -> bytes:
    buf = bytearray(SPOT_MARKET_SIZE)
    buf[0:32] = _key("spot", 0)
    # oracle = Pubkey::default() -> the oracle map's quote asset price (1.000000)
    for name in ("last_oracle_price", "last_oracle_price_twap", "last_oracle_price_twap_5min"):
        _put(buf, SM[name], "q", 1_000_000)
    _put128(buf, SM["cumulative_deposit_interest"], 10_000_000_000)
    _put128(buf, SM["cumulative_borrow_interest"], 10_000_000_000)
    for name in ("initial_asset_weight", "maintenance_asset_weight"):
        _put(buf, SM[name], "I", 10_000)
    for name in ("initial_liability_weight", "maintenance_liability_weight"):
        _put(buf, SM[name], "I", 10_000)
    _put(buf, SM["decimals"], "I", 6)
    _put(buf, SM["market_index"], "H", 0)
    buf[SM["oracle_source"]] = ORACLE_QUOTE_ASSET
    buf[SM["status"]] = STATUS_ACTIVE
    return discriminator("SpotMarket") + bytes(buf)


def prelaunch_oracle_data(market_index: int, price: int) -> bytes:
    buf = bytearray(PRELAUNCH_SIZE)
    _put(buf, PO["price"], "q", price)
    _put(buf, PO["max_price"], "q", price)
    _put(buf, PO["perp_market_index"], "H", market_index)
    return discriminator("PrelaunchOracle") + bytes(buf)


@dataclass(frozen=True)
class PerpPos:
    market_index: int
    base: int  # 1e-9 base
    quote: int  # 1e-6 quote (quote_asset_amount)


def user_data(deposit: int, positions: Sequence[PerpPos], margin_mode: str = "default") -> bytes:
    """A User (no discriminator: the FFI takes ``&User``). ``deposit`` in 1e-6 USDC (>= 0)."""
    if deposit < 0:
        raise ValueError("the peer builds deposits only (a borrow needs a spot liability)")
    buf = bytearray(USER_SIZE)
    if deposit:
        sp = U["spot_positions"]
        _put(buf, sp + SP["scaled_balance"], "Q", deposit * 1000)  # SPOT_BALANCE_PRECISION 1e9 / 1e6
        _put(buf, sp + SP["market_index"], "H", 0)
        buf[sp + SP["balance_type"]] = 0  # Deposit
    for i, p in enumerate(positions):
        off = U["perp_positions"] + i * PERP_POSITION_SIZE
        _put(buf, off + PP["base_asset_amount"], "q", p.base)
        _put(buf, off + PP["quote_asset_amount"], "q", p.quote)
        _put(buf, off + PP["quote_entry_amount"], "q", p.quote)
        _put(buf, off + PP["market_index"], "H", p.market_index)
    buf[U["margin_mode"]] = MARGIN_MODE[margin_mode]
    return bytes(buf)


# --- the library and its ABI --------------------------------------------------------------
#
# ABI facts (driftpyrs 0.1.0; found by probing, see tests/peers/drift/README.md):
# - ``solana_sdk::account::Account`` (repr(Rust), 80 bytes) is passed inside the repr(C)
#   ``AccountWithKey { key: [u8; 32], account }``; its field offsets are ACCOUNT_LAYOUT;
#   ``Vec<u8>`` is (cap, ptr, len).
# - ``AccountsList`` is repr(C): three slices (ptr, len), ``Option<OracleGuardRails>`` (tag
#   word + 48 bytes), ``latest_slot``.
# - ``FfiResult<T>`` (abi_stable ``RResult``, repr(u8)) comes back through a hidden sret
#   pointer: tag byte at 0 (0 = Ok), payload at 16; the buffer is 16-aligned and oversized.

ACCOUNT_SIZE = 80
#: field -> offset inside the 80-byte Account (Vec at data: cap, ptr, len)
ACCOUNT_LAYOUT = {"lamports": 0, "data": 8, "owner": 32, "executable": 64, "rent_epoch": 72}
ACCOUNT_WITH_KEY_SIZE = 32 + ACCOUNT_SIZE
ACCOUNTS_LIST_SIZE = 112
RESULT_BUFFER = 4096


def library_path() -> str:
    """The ``libdrift_ffi_sys`` shared object shipped in the installed driftpyrs wheel."""
    spec = importlib.util.find_spec("driftpyrs")
    if spec is None or spec.origin is None:
        raise RuntimeError("driftpyrs is not installed in this interpreter")
    site = os.path.dirname(os.path.dirname(spec.origin))
    found = sorted(glob.glob(os.path.join(site, "driftpyrs.libs", "libdrift_ffi_sys*.so")))
    if not found:
        raise RuntimeError(f"no libdrift_ffi_sys*.so under {site}/driftpyrs.libs")
    return found[0]


class _Aligned:
    """A 16-byte-aligned scratch buffer."""

    def __init__(self, size: int) -> None:
        self._raw = ctypes.create_string_buffer(size + 32)
        base = ctypes.addressof(self._raw)
        self.addr = (base + 15) & ~15
        self.size = size

    def write(self, off: int, data: bytes) -> None:
        ctypes.memmove(self.addr + off, data, len(data))

    def read(self, off: int, n: int) -> bytes:
        return ctypes.string_at(self.addr + off, n)


class Peer:
    """Calls into the program. Keep one per process; never unload (teardown may crash, so the
    driver leaves with ``os._exit``)."""

    def __init__(self, path: str | None = None, layout: dict[str, int] | None = None) -> None:
        self.lib = ctypes.CDLL(path or library_path())
        self.layout = layout or ACCOUNT_LAYOUT
        f = self.lib.math_calculate_margin_requirement_and_total_collateral_and_liability_info
        f.restype = None
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
        self._margin = f
        g = self.lib.perp_market_get_margin_ratio
        # FfiResult<u32> is 8 bytes: returned in rax (tag byte at 0, value at 4), no sret.
        # (&PerpMarket, compat::u128 by value as two words, MarginRequirementType, bool)
        g.restype = ctypes.c_uint64
        g.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint64,
            ctypes.c_uint64,
            ctypes.c_uint8,
            ctypes.c_bool,
        ]
        self._ratio = g
        self._keep: list[object] = []

    def _accounts(self, items: Sequence[tuple[bytes, bytes]]) -> _Aligned:
        """``[AccountWithKey]`` for (key, data) pairs, all owned by the Drift program."""
        arr = _Aligned(max(1, len(items)) * ACCOUNT_WITH_KEY_SIZE)
        lay = self.layout
        for i, (key, data) in enumerate(items):
            base = i * ACCOUNT_WITH_KEY_SIZE
            dbuf = _Aligned(len(data))
            dbuf.write(0, data)
            self._keep.append(dbuf)
            arr.write(base, key)
            acc = base + 32
            arr.write(acc + lay["data"], struct.pack("<QQQ", len(data), dbuf.addr, len(data)))
            arr.write(acc + lay["lamports"], struct.pack("<Q", 1_000_000_000))
            arr.write(acc + lay["rent_epoch"], struct.pack("<Q", 0))
            arr.write(acc + lay["owner"], DRIFT_PROGRAM_ID)
            arr.write(acc + lay["executable"], b"\0")
        return arr

    def margin(
        self,
        deposit: int,
        positions: Sequence[PerpPos],
        markets: Sequence[Market],
        prices: dict[int, int],
        kind: str,
        margin_mode: str = "default",
    ) -> tuple[int, int]:
        """(total collateral, margin requirement) of ``MarginContext::standard(kind)``."""
        self._keep = []
        perp = self._accounts(
            [(_key("perp", m.index), perp_market_data(m, prices[m.index])) for m in markets]
        )
        spot = self._accounts([(_key("spot", 0), quote_spot_market_data())])
        oracles = self._accounts(
            [(_key("oracle", m.index), prelaunch_oracle_data(m.index, prices[m.index])) for m in markets]
        )
        lst = _Aligned(ACCOUNTS_LIST_SIZE)
        lst.write(
            0, struct.pack("<QQQQQQ", perp.addr, len(markets), spot.addr, 1, oracles.addr, len(markets))
        )
        lst.write(48, b"\0" * 56)  # oracle_guard_rails: None
        lst.write(104, struct.pack("<Q", 0))  # latest_slot
        user = _Aligned(USER_SIZE)
        user.write(0, user_data(deposit, positions, margin_mode))
        mode = {"maintenance": 0, "initial": 1}.get(kind)
        arg = mode if mode is not None else 2 | (REQUIREMENT[kind] << 32)
        out = _Aligned(RESULT_BUFFER)
        self._margin(out.addr, user.addr, lst.addr, arg)
        tag = out.read(0, 1)[0]
        if tag != 0:
            code = struct.unpack("<I", out.read(4, 4))[0]
            raise RuntimeError(f"the program returned error code {code}")
        tc = int.from_bytes(out.read(16, 16), "little", signed=True)
        mr = int.from_bytes(out.read(32, 16), "little", signed=False)
        self._keep = [perp, spot, oracles, lst, user, out]
        return tc, mr

    def margin_ratio(self, m: Market, size: int, kind: str, high_leverage: bool) -> int:
        """``PerpMarket::get_margin_ratio(size, kind, high_leverage)`` (1e-4)."""
        data = perp_market_data(m, 1_000_000)[8:]
        mk = _Aligned(len(data))
        mk.write(0, data)
        word = int(self._ratio(mk.addr, size & (2**64 - 1), size >> 64, REQUIREMENT[kind], high_leverage))
        if word & 0xFF:
            raise RuntimeError(f"the program returned error code {word >> 32}")
        return word >> 32
