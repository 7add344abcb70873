"""Budget stores: where counters, request windows and reservations live, changed only atomically.

Every store offers the same few operations (:class:`BudgetStore`), each one atomic across all the counters it
touches:

- ``reserve``: check every request window and counter of a call, then count the request and hold its worst case
  on every counter, or change nothing and say which limit refused;
- ``ensure``: make a reservation hold at least an amount (a watch topping up when the real prompt is larger, or
  keeping the hold alive); ``exhausted`` reports a counter whose settled use reached its limit;
- ``settle``: add a finished call's real use and release its hold (``final``) or shrink it by that use;
  at most once per record id;
- ``release``: give a hold back unused; ``sweep``: release holds whose process died (past their expiry);
- ``init``: create missing counters with the use the ledger knows (a store never creates a counter from zero by
  itself, so a lost counter is rebuilt, never restarted).

:class:`RedisBudgetStore` does each operation as one Lua script; :class:`LockingBudgetStore` runs the same rules
in one transaction of a row store with row locks: :class:`MemoryBudgetStore` (one process) and
:class:`~claude_web.web.budgets.SqlBudgetStore` (PostgreSQL, SQLite, MySQL).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

__all__ = [
    "BudgetStore",
    "Charge",
    "CounterState",
    "Hold",
    "LockingBudgetStore",
    "MemoryBudgetStore",
    "Outcome",
    "Tx",
    "Window",
]

log = logging.getLogger("claude_web.budgets")

_T = TypeVar("_T")

SETTLED_TTL = 2 * 86_400.0
"""How long a settled record id (and a finished reservation id) is remembered: settling it again is a no-op."""


@dataclass(frozen=True)
class Charge:
    """An amount on one counter: ``key``, the counter's ``limit`` and ``expires_at`` (when it may be dropped)."""

    key: str
    limit: int
    amount: int
    expires_at: float


@dataclass(frozen=True)
class Window:
    """A requests-per-``span`` sliding window at ``key`` allowing ``limit`` requests."""

    key: str
    limit: int
    span: float = 60.0


@dataclass(frozen=True)
class Outcome:
    """What a store operation did.

    ``status``: ``ok``; ``missing`` (``missing`` names counters to rebuild first; nothing changed); ``refused``
    (``charge`` or ``window`` is the index that refused; ``retry_at`` when a window frees a slot; ``busy`` when
    settled use alone would leave room and holds of calls in flight take it); ``gone`` (``ensure`` on a
    reservation already settled or released); ``duplicate`` (``settle`` of a record settled before).
    ``exhausted``: a counter's settled use has reached its limit. ``used``: each charge's counter after a settle
    (-1 for a missing counter).
    """

    status: str
    missing: tuple[str, ...] = ()
    charge: int = -1
    window: int = -1
    retry_at: float = 0.0
    busy: bool = False
    exhausted: bool = False
    used: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class CounterState:
    """A counter as a report sees it."""

    key: str
    used: int
    held: int


class BudgetStore(Protocol):
    prefix: str

    def reserve(
        self, res_id: str, charges: Sequence[Charge], windows: Sequence[Window], now: float, ttl: float
    ) -> Outcome:
        """Atomically check and count: every window gets this request and every counter holds its charge under
        ``res_id`` (for ``ttl`` seconds); an empty ``res_id`` or all-zero charges check without holding."""
        ...

    def ensure(self, res_id: str, charges: Sequence[Charge], now: float, ttl: float) -> Outcome:
        """Make ``res_id`` hold at least each charge (creating the hold if it expired) for ``ttl`` more seconds."""
        ...

    def settle(self, res_id: str, record_id: str, charges: Sequence[Charge], final: bool, now: float) -> Outcome:
        """Add the real use (charges' amounts) once per ``record_id``; release ``res_id`` (``final``) or shrink it."""
        ...

    def release(self, res_id: str, now: float) -> bool:
        """Give ``res_id``'s hold back; ``False`` when there was none."""
        ...

    def sweep(self, now: float, limit: int = 100) -> int:
        """Release up to ``limit`` holds past their expiry; how many were released."""
        ...

    def init(self, values: Sequence[tuple[Charge, int]], now: float) -> None:
        """Create the counters that do not exist with the given use (from the ledger); existing ones are kept."""
        ...

    def mark(self, name: str, expires_at: float, now: float) -> bool:
        """Set a marker once: ``True`` for the caller that set it (alerts fire once per scope and period)."""
        ...

    def counters(self, now: float) -> list[CounterState]:
        """Every live counter of this prefix (for reports)."""
        ...

    def window_size(self, key: str, span: float, now: float) -> int:
        """Requests in a window now."""
        ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------------------------
# the rules once, over a row store with locks


@dataclass
class Counter:
    name: str
    used: int = 0
    held: int = 0
    stamps: list[float] = field(default_factory=list)
    expires_at: float = 0.0


@dataclass
class Hold:
    """A reservation: counter key -> amount held, until ``expires_at``."""

    id: str
    holds: dict[str, int]
    expires_at: float


class Tx(Protocol):
    """One transaction of a row store. ``counters`` and ``reservation`` lock what they return (counters in key
    order, always after the reservation) until the transaction ends."""

    def counters(self, names: Sequence[str]) -> dict[str, Counter]: ...

    def add_counters(self, rows: Sequence[Counter]) -> None: ...

    def save_counters(self, rows: Sequence[Counter]) -> None: ...

    def reservation(self, res_id: str) -> Hold | None: ...

    def save_reservation(self, hold: Hold, new: bool) -> None: ...

    def drop_reservation(self, res_id: str) -> None: ...

    def expired(self, now: float, limit: int) -> list[Hold]: ...

    def marked(self, name: str, now: float) -> bool: ...

    def mark(self, name: str, expires_at: float, now: float) -> bool: ...

    def purge(self, now: float) -> None: ...

    def scan(self, prefix: str, now: float) -> list[Counter]: ...


def _fits(row: Counter, amount: int, limit: int) -> bool:
    return row.used + row.held + max(amount, 1) <= limit


class LockingBudgetStore:
    """The store rules over a transactional row store (subclasses give :meth:`transaction`)."""

    prefix: str = "claude_web:quota"
    retries = 5

    def transaction(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def retryable(self, exc: BaseException) -> bool:
        """A conflict worth running the transaction again for (deadlock, serialization, SQLite busy)."""
        return False

    def _run(self, work: Callable[[Tx], _T]) -> _T:
        attempt = 0
        while True:
            try:
                with self.transaction() as tx:
                    return work(tx)
            except Exception as exc:
                attempt += 1
                if attempt >= self.retries or not self.retryable(exc):
                    raise
                log.debug("budget store transaction conflict (%s); trying again", type(exc).__name__)
                time.sleep(0.005 * attempt)

    def _marker(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    # -- operations ---------------------------------------------------------------------------------------------
    def reserve(
        self, res_id: str, charges: Sequence[Charge], windows: Sequence[Window], now: float, ttl: float
    ) -> Outcome:
        def work(tx: Tx) -> Outcome:
            if windows:
                tx.add_counters([Counter(w.key, expires_at=now + w.span) for w in windows])
            rows = tx.counters(sorted({c.key for c in charges} | {w.key for w in windows}))
            missing = tuple(c.key for c in charges if c.key not in rows)
            if missing:
                return Outcome("missing", missing=missing)
            for index, window in enumerate(windows):
                row = rows[window.key]
                row.stamps = [t for t in row.stamps if t > now - window.span]
                if len(row.stamps) >= window.limit:
                    return Outcome("refused", window=index, retry_at=min(row.stamps) + window.span)
            for index, charge in enumerate(charges):
                row = rows[charge.key]
                if not _fits(row, charge.amount, charge.limit):
                    busy = row.used + max(charge.amount, 1) <= charge.limit
                    return Outcome("refused", charge=index, busy=busy)
            changed: dict[str, Counter] = {}
            for window in windows:
                row = changed[window.key] = rows[window.key]
                row.stamps.append(now)
                row.expires_at = now + window.span
            holds: dict[str, int] = {}
            if res_id:
                for charge in charges:
                    if charge.amount > 0:
                        row = changed[charge.key] = rows[charge.key]
                        row.held += charge.amount
                        holds[charge.key] = holds.get(charge.key, 0) + charge.amount
            tx.save_counters([changed[key] for key in sorted(changed)])
            if holds:
                tx.save_reservation(Hold(res_id, holds, now + ttl), new=True)
            return Outcome("ok")

        return self._run(work)

    def ensure(self, res_id: str, charges: Sequence[Charge], now: float, ttl: float) -> Outcome:
        def work(tx: Tx) -> Outcome:
            hold = tx.reservation(res_id)
            if hold is None and tx.marked(self._marker(f"d:{res_id}"), now):
                return Outcome("gone")
            rows = tx.counters(sorted({c.key for c in charges}))
            missing = tuple(c.key for c in charges if c.key not in rows)
            if missing:
                return Outcome("missing", missing=missing)
            exhausted = any(rows[c.key].used >= c.limit for c in charges)
            current = hold.holds if hold is not None else {}
            deltas = {c.key: max(0, c.amount - current.get(c.key, 0)) for c in charges}
            for index, charge in enumerate(charges):
                delta = deltas[charge.key]
                if delta and not _fits(rows[charge.key], delta, charge.limit):
                    if hold is not None:  # no more room, but what it holds stays held while the call lives
                        tx.save_reservation(Hold(res_id, hold.holds, now + ttl), new=False)
                    return Outcome("refused", charge=index, exhausted=True)
            holds = dict(current)
            for key, delta in deltas.items():
                if delta:
                    rows[key].held += delta
                    holds[key] = holds.get(key, 0) + delta
            tx.save_counters([rows[key] for key in sorted(deltas) if deltas[key]])
            tx.save_reservation(Hold(res_id, holds, now + ttl), new=hold is None)
            return Outcome("ok", exhausted=exhausted)

        return self._run(work)

    def settle(self, res_id: str, record_id: str, charges: Sequence[Charge], final: bool, now: float) -> Outcome:
        def work(tx: Tx) -> Outcome:
            if record_id and not tx.mark(self._marker(f"s:{record_id}"), now + SETTLED_TTL, now):
                return Outcome("duplicate")
            hold = tx.reservation(res_id) if res_id else None
            names = {c.key for c in charges} | (set(hold.holds) if hold is not None else set())
            rows = tx.counters(sorted(names))
            changed: set[str] = set()
            if hold is not None:
                if final:
                    for key, amount in hold.holds.items():
                        if key in rows:
                            rows[key].held = max(0, rows[key].held - amount)
                            changed.add(key)
                    tx.drop_reservation(res_id)
                else:
                    for charge in charges:
                        shrink = min(charge.amount, hold.holds.get(charge.key, 0))
                        if shrink and charge.key in rows:
                            hold.holds[charge.key] -= shrink
                            rows[charge.key].held = max(0, rows[charge.key].held - shrink)
                            changed.add(charge.key)
                    tx.save_reservation(hold, new=False)
            if final and res_id:
                tx.mark(self._marker(f"d:{res_id}"), now + SETTLED_TTL, now)
            used: list[int] = []
            for charge in charges:
                row = rows.get(charge.key)
                if row is None:
                    used.append(-1)  # lost: the ledger has this record; a rebuild counts it
                    continue
                row.used += charge.amount
                changed.add(charge.key)
                used.append(row.used)
            tx.save_counters([rows[key] for key in sorted(changed)])
            return Outcome("ok", used=tuple(used))

        return self._run(work)

    def release(self, res_id: str, now: float) -> bool:
        def work(tx: Tx) -> bool:
            hold = tx.reservation(res_id)
            tx.mark(self._marker(f"d:{res_id}"), now + SETTLED_TTL, now)
            if hold is None:
                return False
            self._give_back(tx, [hold])
            return True

        return self._run(work)

    def _give_back(self, tx: Tx, holds: Sequence[Hold]) -> None:
        rows = tx.counters(sorted({key for hold in holds for key in hold.holds}))
        for hold in holds:
            for key, amount in hold.holds.items():
                if key in rows:
                    rows[key].held = max(0, rows[key].held - amount)
            tx.drop_reservation(hold.id)
        tx.save_counters([rows[key] for key in sorted(rows)])

    def sweep(self, now: float, limit: int = 100) -> int:
        def work(tx: Tx) -> int:
            holds = tx.expired(now, limit)
            if holds:
                self._give_back(tx, holds)
                log.info("released %d budget reservation(s) whose calls did not finish in time", len(holds))
            tx.purge(now)
            return len(holds)

        return self._run(work)

    def init(self, values: Sequence[tuple[Charge, int]], now: float) -> None:
        def work(tx: Tx) -> None:
            tx.add_counters([Counter(c.key, used=max(0, used), expires_at=c.expires_at) for c, used in values])

        self._run(work)

    def mark(self, name: str, expires_at: float, now: float) -> bool:
        return self._run(lambda tx: tx.mark(self._marker(name), expires_at, now))

    def counters(self, now: float) -> list[CounterState]:
        rows = self._run(lambda tx: tx.scan(f"{self.prefix}:c:", now))
        return [CounterState(r.name, r.used, r.held) for r in rows]

    def window_size(self, key: str, span: float, now: float) -> int:
        def work(tx: Tx) -> int:
            rows = tx.scan(key, now)
            return sum(1 for row in rows if row.name == key for t in row.stamps if t > now - span)

        return self._run(work)

    def close(self) -> None:
        return None


# ---------------------------------------------------------------------------------------------------------------
# memory


class _MemoryTx:
    def __init__(self, store: MemoryBudgetStore) -> None:
        self.s = store

    def counters(self, names: Sequence[str]) -> dict[str, Counter]:
        out = {}
        for name in names:
            row = self.s._counters.get(name)
            if row is not None:
                out[name] = Counter(row.name, row.used, row.held, list(row.stamps), row.expires_at)
        return out

    def add_counters(self, rows: Sequence[Counter]) -> None:
        for row in rows:
            self.s._counters.setdefault(
                row.name, Counter(row.name, row.used, row.held, list(row.stamps), row.expires_at)
            )

    def save_counters(self, rows: Sequence[Counter]) -> None:
        for row in rows:
            self.s._counters[row.name] = row

    def reservation(self, res_id: str) -> Hold | None:
        hold = self.s._holds.get(res_id)
        return None if hold is None else Hold(hold.id, dict(hold.holds), hold.expires_at)

    def save_reservation(self, hold: Hold, new: bool) -> None:
        self.s._holds[hold.id] = hold

    def drop_reservation(self, res_id: str) -> None:
        self.s._holds.pop(res_id, None)

    def expired(self, now: float, limit: int) -> list[Hold]:
        found = [h for h in self.s._holds.values() if h.expires_at <= now]
        return sorted(found, key=lambda h: h.expires_at)[:limit]

    def marked(self, name: str, now: float) -> bool:
        return self.s._markers.get(name, 0.0) > now

    def mark(self, name: str, expires_at: float, now: float) -> bool:
        if self.marked(name, now):
            return False
        self.s._markers[name] = expires_at
        return True

    def purge(self, now: float) -> None:
        s = self.s
        for name in [k for k, v in s._markers.items() if v <= now]:
            del s._markers[name]
        for name in [k for k, v in s._counters.items() if v.expires_at <= now]:
            del s._counters[name]

    def scan(self, prefix: str, now: float) -> list[Counter]:
        return [
            row for name, row in sorted(self.s._counters.items()) if name.startswith(prefix) and row.expires_at > now
        ]


class MemoryBudgetStore(LockingBudgetStore):
    """Everything in this process's memory, behind one lock: tests, demos, single-process apps. A restart loses
    it (counters are rebuilt from the ledger; holds of calls in flight are gone with their process).

    >>> store = MemoryBudgetStore("p")
    >>> store.reserve("r1", [Charge("p:c:g:tok:d1", 10, 4, 2e9)], [], now=1.0, ttl=60).status
    'missing'
    """

    def __init__(self, prefix: str = "claude_web:quota") -> None:
        self.prefix = prefix
        self._counters: dict[str, Counter] = {}
        self._holds: dict[str, Hold] = {}
        self._markers: dict[str, float] = {}
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<MemoryBudgetStore prefix={self.prefix!r}>"

    @contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with self._lock:
            yield _MemoryTx(self)

    def transaction(self) -> AbstractContextManager[Tx]:
        return self._transaction()
