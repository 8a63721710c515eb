"""Money in and out: deposits and withdrawals.

Rules: ENG-AMT-01, ENG-WDR-01, INV-01, INV-03.
"""

from __future__ import annotations

import attrs
from perpspec import account as acc_mod
from perpspec.account import Account
from perpspec.engine.common import (
    Output,
    Rejected,
    account,
    handles,
    oi_notional,
    priced,
    with_bad_debt,
)
from perpspec.events import BalanceOut, Deposit, Withdraw
from perpspec.state import Exchange, exchange_with
from perpspec.traceability import implements


@handles(Deposit)
@implements("ENG-AMT-01", "INV-01")
def deposit(ex: Exchange, ev: Deposit) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-AMT-01, INV-01. Credit collateral; a deposit to a new id creates the account."""
    if ev.amount <= 0:
        raise Rejected("ENG-AMT-01", f"a deposit must be positive, got {ev.amount}")
    old = ex.accounts.get(ev.account)
    if old is None:
        parts = ev.account.rsplit("/", 2)
        if len(parts) == 3 and parts[1] in ex.profile.markets and parts[2] in ("BOTH", "LONG", "SHORT"):
            raise Rejected(
                "ENG-AMT-01",
                f"account id {ev.account!r} has the form ACCOUNT/SYMBOL/SLOT, reserved for the "
                "bad-debt records of isolated positions (INV-03)",
            )
        old = Account(id=ev.account)
    new = Account(old.id, old.collateral + ev.amount, old.positions, old.hedge_mode)
    accounts = ex.accounts.set(ev.account, new)
    bad, outs = with_bad_debt(ev.t, ex.bad_debt, accounts, [ev.account])
    ex2 = exchange_with(
        ex,
        t=ev.t,
        accounts=accounts,
        net_deposits=ex.net_deposits + ev.amount,
        bad_debt=bad,
        holders=ex.holders,
    )
    return ex2, [BalanceOut(ev.t, ev.account, ev.amount, new.collateral, "deposit"), *outs]


@handles(Withdraw)
@implements("ENG-AMT-01", "ENG-WDR-01")
def withdraw(ex: Exchange, ev: Withdraw) -> tuple[Exchange, list[Output]]:
    """Rules: ENG-AMT-01, ENG-WDR-01. Debit collateral up to the withdrawable amount.

    Withdrawable: :math:`\\min(collateral, \\max(0, equity - \\max(IM, rate \\cdot \\sum|N|)))`
    (rule ACC-WDR-01 for the second term); unrealized profit is not withdrawable.
    """
    acct = account(ex, ev.account)
    if ev.amount <= 0:
        raise Rejected("ENG-AMT-01", f"a withdrawal must be positive, got {ev.amount}")
    marks = ex.marks()
    priced(acct, marks)
    free = acc_mod.available_for_withdrawal(acct, marks, ex.profile, oi_notional(ex, marks))
    limit = min(acct.collateral, free)
    if ev.amount > limit:
        raise Rejected(
            "ENG-WDR-01",
            f"withdrawal of {ev.amount} exceeds the withdrawable {max(limit, 0)} "
            f"(collateral {acct.collateral}, free of the transfer margin requirement {free})",
        )
    new = Account(acct.id, acct.collateral - ev.amount, acct.positions, acct.hedge_mode)
    accounts = ex.accounts.set(ev.account, new)
    ex2 = attrs.evolve(ex, t=ev.t, accounts=accounts, net_deposits=ex.net_deposits - ev.amount)
    return ex2, [BalanceOut(ev.t, ev.account, -ev.amount, new.collateral, "withdraw")]
