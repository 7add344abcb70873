"""The budget store in Redis: every operation is one Lua script, so it is atomic and one round trip.

Keys under the prefix ``P``: ``P:c:...`` counter hashes (``u`` settled use, ``h`` held), ``P:w:...`` request
windows (sorted sets of request times), ``P:r:<id>`` reservations (counter key -> amount held, ``_e`` expiry),
``P:rx`` the reservations by expiry (what the sweeper reads), and markers ``P:s:<record id>`` (settled),
``P:d:<reservation id>`` (finished) and alert markers. Counters expire a day after their period; reservations are
never left to expire silently: the sweeper gives their holds back first.

Redis Cluster is not supported (a call's counters live under several keys); use one Redis (with replicas or
Sentinel). A ``FLUSHALL`` loses counters and holds: counters are rebuilt from the ledger on the next call, holds
of calls in flight are lost with them.

>>> store = RedisBudgetStore(redis.Redis.from_url("redis://127.0.0.1:6379/0"), prefix="myapp:quota")
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from typing import Any

from ._store import SETTLED_TTL, Charge, CounterState, Outcome, Window

__all__ = ["RedisBudgetStore"]

_LIB = r"""
local function num(v) if v == false or v == nil then return 0 end return tonumber(v) end
local function fmt(x) return string.format('%.3f', x) end
local function give_back(rkey)
  local flat = redis.call('HGETALL', rkey)
  for i = 1, #flat, 2 do
    local k, amount = flat[i], tonumber(flat[i + 1])
    if k ~= '_e' and amount > 0 and redis.call('EXISTS', k) == 1 then
      local h = redis.call('HINCRBY', k, 'h', 0 - amount)
      if h < 0 then redis.call('HSET', k, 'h', 0) end
    end
  end
  redis.call('DEL', rkey)
end
local function sweep(prefix, now, limit)
  local ids = redis.call('ZRANGEBYSCORE', prefix .. ':rx', '-inf', fmt(now), 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    give_back(prefix .. ':r:' .. id)
    redis.call('ZREM', prefix .. ':rx', id)
  end
  return #ids
end
local function read_charges(start, with_limit)
  local n = tonumber(ARGV[start])
  local out, i = {}, start + 1
  for c = 1, n do
    if with_limit then
      out[c] = {ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])}
      i = i + 3
    else
      out[c] = {ARGV[i], 0, tonumber(ARGV[i + 1])}
      i = i + 2
    end
  end
  return out, i
end
local function missing_of(chs)
  local missing = {}
  for c = 1, #chs do
    if redis.call('EXISTS', chs[c][1]) == 0 then missing[#missing + 1] = chs[c][1] end
  end
  return missing
end
"""

# ARGV: prefix now ttl res_id member nwin [key limit span]... ncharge [key limit amount]...
_RESERVE = (
    _LIB
    + r"""
local prefix, now, ttl, rid, member = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
sweep(prefix, now, 20)
local nw = tonumber(ARGV[6])
local wins, i = {}, 7
for w = 1, nw do
  wins[w] = {ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])}
  i = i + 3
end
local chs = read_charges(i, true)
local missing = missing_of(chs)
if #missing > 0 then
  table.insert(missing, 1, 'missing')
  return missing
end
for w = 1, nw do
  local k, lim, span = wins[w][1], wins[w][2], wins[w][3]
  redis.call('ZREMRANGEBYSCORE', k, '-inf', fmt(now - span))
  if redis.call('ZCARD', k) >= lim then
    local oldest = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
    return {'refused', 'window', tostring(w - 1), fmt(tonumber(oldest[2]) + span)}
  end
end
for c = 1, #chs do
  local v = redis.call('HMGET', chs[c][1], 'u', 'h')
  local u, h, need = num(v[1]), num(v[2]), math.max(chs[c][3], 1)
  if u + h + need > chs[c][2] then
    return {'refused', 'charge', tostring(c - 1), (u + need <= chs[c][2]) and '1' or '0'}
  end
end
for w = 1, nw do
  redis.call('ZADD', wins[w][1], fmt(now), member)
  redis.call('PEXPIRE', wins[w][1], math.ceil(wins[w][3] * 1000) + 1000)
end
if rid ~= '' then
  local rkey, any = prefix .. ':r:' .. rid, false
  for c = 1, #chs do
    if chs[c][3] > 0 then
      redis.call('HINCRBY', chs[c][1], 'h', chs[c][3])
      redis.call('HINCRBY', rkey, chs[c][1], chs[c][3])
      any = true
    end
  end
  if any then
    redis.call('HSET', rkey, '_e', fmt(now + ttl))
    redis.call('ZADD', prefix .. ':rx', fmt(now + ttl), rid)
  end
end
return {'ok'}
"""
)

# ARGV: prefix now ttl res_id ncharge [key limit amount]...
_ENSURE = (
    _LIB
    + r"""
local prefix, now, ttl, rid = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local rkey = prefix .. ':r:' .. rid
if redis.call('EXISTS', rkey) == 0 and redis.call('EXISTS', prefix .. ':d:' .. rid) == 1 then
  return {'gone'}
end
local chs = read_charges(5, true)
local missing = missing_of(chs)
if #missing > 0 then
  table.insert(missing, 1, 'missing')
  return missing
end
local exhausted, deltas = '0', {}
for c = 1, #chs do
  local v = redis.call('HMGET', chs[c][1], 'u', 'h')
  local u, h = num(v[1]), num(v[2])
  if u >= chs[c][2] then exhausted = '1' end
  local delta = math.max(0, chs[c][3] - num(redis.call('HGET', rkey, chs[c][1])))
  if delta > 0 and u + h + delta > chs[c][2] then
    if redis.call('EXISTS', rkey) == 1 then  -- no more room, but what it holds stays held while the call lives
      redis.call('HSET', rkey, '_e', fmt(now + ttl))
      redis.call('ZADD', prefix .. ':rx', fmt(now + ttl), rid)
    end
    return {'refused', 'charge', tostring(c - 1), '0', '1'}
  end
  deltas[c] = delta
end
for c = 1, #chs do
  if deltas[c] > 0 then
    redis.call('HINCRBY', chs[c][1], 'h', deltas[c])
    redis.call('HINCRBY', rkey, chs[c][1], deltas[c])
  end
end
redis.call('HSET', rkey, '_e', fmt(now + ttl))
redis.call('ZADD', prefix .. ':rx', fmt(now + ttl), rid)
return {'ok', exhausted}
"""
)

# ARGV: prefix now res_id record_id final settled_ms ncharge [key amount]...
_SETTLE = (
    _LIB
    + r"""
local prefix, now, rid, record, final, keep = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if record ~= '' then
  if not redis.call('SET', prefix .. ':s:' .. record, '1', 'NX', 'PX', keep) then return {'duplicate'} end
end
local chs = read_charges(7, false)
local rkey = prefix .. ':r:' .. rid
if rid ~= '' and redis.call('EXISTS', rkey) == 1 then
  if final == '1' then
    give_back(rkey)
    redis.call('ZREM', prefix .. ':rx', rid)
  else
    for c = 1, #chs do
      local shrink = math.min(chs[c][3], num(redis.call('HGET', rkey, chs[c][1])))
      if shrink > 0 then
        redis.call('HINCRBY', rkey, chs[c][1], 0 - shrink)
        if redis.call('EXISTS', chs[c][1]) == 1 then
          local h = redis.call('HINCRBY', chs[c][1], 'h', 0 - shrink)
          if h < 0 then redis.call('HSET', chs[c][1], 'h', 0) end
        end
      end
    end
  end
end
if final == '1' and rid ~= '' then redis.call('SET', prefix .. ':d:' .. rid, '1', 'PX', keep) end
local out = {'ok'}
for c = 1, #chs do
  if redis.call('EXISTS', chs[c][1]) == 1 then
    out[#out + 1] = tostring(redis.call('HINCRBY', chs[c][1], 'u', chs[c][3]))
  else
    out[#out + 1] = '-1'
  end
end
return out
"""
)

# ARGV: prefix now res_id settled_ms
_RELEASE = (
    _LIB
    + r"""
local prefix, rid = ARGV[1], ARGV[3]
redis.call('SET', prefix .. ':d:' .. rid, '1', 'PX', ARGV[4])
local rkey = prefix .. ':r:' .. rid
if redis.call('EXISTS', rkey) == 0 then return 0 end
give_back(rkey)
redis.call('ZREM', prefix .. ':rx', rid)
return 1
"""
)

# ARGV: prefix now limit
_SWEEP = _LIB + "\nreturn sweep(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))\n"

# ARGV: n [key used expires_ms]...
_INIT = r"""
local n, i = tonumber(ARGV[1]), 2
for c = 1, n do
  if redis.call('EXISTS', ARGV[i]) == 0 then
    redis.call('HSET', ARGV[i], 'u', ARGV[i + 1], 'h', 0)
    redis.call('PEXPIREAT', ARGV[i], ARGV[i + 2])
  end
  i = i + 3
end
return n
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _outcome(reply: Any) -> Outcome:
    items = [_text(v) for v in reply]
    status = items[0]
    if status == "missing":
        return Outcome("missing", missing=tuple(items[1:]))
    if status == "refused":
        index = int(items[2])
        if items[1] == "window":
            return Outcome("refused", window=index, retry_at=float(items[3]))
        return Outcome("refused", charge=index, busy=items[3] == "1", exhausted=len(items) > 4 and items[4] == "1")
    if status == "ok" and len(items) == 2 and items[1] in ("0", "1"):
        return Outcome("ok", exhausted=items[1] == "1")
    return Outcome(status)


class RedisBudgetStore:
    """A :class:`~claude_web.web.budgets.BudgetStore` in Redis (``client`` is a ``redis.Redis``)."""

    def __init__(self, client: Any, prefix: str = "claude_web:quota") -> None:
        self.redis = client
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._ensure = client.register_script(_ENSURE)
        self._settle = client.register_script(_SETTLE)
        self._release = client.register_script(_RELEASE)
        self._sweep = client.register_script(_SWEEP)
        self._init = client.register_script(_INIT)

    def __repr__(self) -> str:
        return f"<RedisBudgetStore prefix={self.prefix!r}>"

    @staticmethod
    def _charges(charges: Sequence[Charge], with_limit: bool = True) -> list[Any]:
        args: list[Any] = [len(charges)]
        for charge in charges:
            args += [charge.key, charge.limit, charge.amount] if with_limit else [charge.key, charge.amount]
        return args

    def reserve(
        self, res_id: str, charges: Sequence[Charge], windows: Sequence[Window], now: float, ttl: float
    ) -> Outcome:
        args: list[Any] = [self.prefix, f"{now:.3f}", ttl, res_id, res_id or secrets.token_hex(8), len(windows)]
        for window in windows:
            args += [window.key, window.limit, window.span]
        return _outcome(self._reserve(args=args + self._charges(charges)))

    def ensure(self, res_id: str, charges: Sequence[Charge], now: float, ttl: float) -> Outcome:
        return _outcome(self._ensure(args=[self.prefix, f"{now:.3f}", ttl, res_id, *self._charges(charges)]))

    def settle(self, res_id: str, record_id: str, charges: Sequence[Charge], final: bool, now: float) -> Outcome:
        args = [self.prefix, f"{now:.3f}", res_id, record_id, "1" if final else "0", int(SETTLED_TTL * 1000)]
        reply = [_text(v) for v in self._settle(args=args + self._charges(charges, with_limit=False))]
        if reply[0] != "ok":
            return Outcome(reply[0])
        return Outcome("ok", used=tuple(int(v) for v in reply[1:]))

    def release(self, res_id: str, now: float) -> bool:
        return bool(self._release(args=[self.prefix, f"{now:.3f}", res_id, int(SETTLED_TTL * 1000)]))

    def sweep(self, now: float, limit: int = 100) -> int:
        return int(self._sweep(args=[self.prefix, f"{now:.3f}", limit]))

    def init(self, values: Sequence[tuple[Charge, int]], now: float) -> None:
        args: list[Any] = [len(values)]
        for charge, used in values:
            args += [charge.key, max(0, int(used)), int(math.ceil(charge.expires_at * 1000))]
        self._init(args=args)

    def mark(self, name: str, expires_at: float, now: float) -> bool:
        ms = max(1, int((expires_at - now) * 1000))
        return bool(self.redis.set(f"{self.prefix}:{name}", "1", nx=True, px=ms))

    def counters(self, now: float) -> list[CounterState]:
        keys = sorted({_text(k) for k in self.redis.scan_iter(match=f"{self.prefix}:c:*", count=500)})
        if not keys:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, "u", "h")
        out = []
        for key, (used, held) in zip(keys, pipe.execute(), strict=True):
            if used is not None:
                out.append(CounterState(key, int(used), int(held or 0)))
        return out

    def window_size(self, key: str, span: float, now: float) -> int:
        return int(self.redis.zcount(key, f"({now - span:.3f}", "+inf"))

    def close(self) -> None:
        close = getattr(self.redis, "close", None)
        if close is not None:
            close()
