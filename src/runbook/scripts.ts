// Lua scripts that make every runbook write atomic on the control Redis. Times for leases come
// from the server's clock (TIME), so workers with skewed clocks still agree on who holds a step.

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Compare-and-set of a migration document, with everything that must happen in the same step:
 * claiming (fencing epoch + lease), releasing a lease, the abort flag, index upkeep, and the
 * audit events of the transition (per-migration stream + bounded global stream).
 *
 * KEYS: doc, fence, events, globalEvents, index, active
 * ARGV[1]: JSON control {v, id, created?, active?, claim?, release?, abort?, maxlen, publish?, lock?,
 *   unlock?}; absent members are left out, never null (cjson decodes null to a truthy value).
 *   lock/unlock: [{k = lock hash key, f = db or '*', u = unit}] server locks to take or give back
 *   (see locks.ts; the hashes are named in ARGV because which servers is known only from the doc).
 * ARGV[2]: the new document (JSON); ARGV[3..]: events (JSON)
 * Returns {'ok', version, eventIds...} | {'conflict', version} | {'busy', leaseUntil} | {'exists'}
 *   | {'locked', holderId, unit}
 */
export const COMMIT = `
${NOW_MS}
local c = cjson.decode(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
if c.v == -1 then
  if current ~= -1 then return {'exists'} end
elseif current ~= c.v then
  return {'conflict', tostring(current)}
end
if c.lock then
  for _, l in ipairs(c.lock) do
    local held = redis.call('HGETALL', l.k)
    for i = 1, #held, 2 do
      local f, holder = held[i], held[i + 1]
      if holder ~= c.id and (f == '*' or l.f == '*' or f == l.f) then
        return {'locked', holder, string.sub(l.u, 1, #l.u - #l.f) .. f}
      end
    end
  end
end
if c.claim then
  local step = c.claim.step
  local epoch = tonumber(redis.call('HGET', KEYS[2], step) or '0')
  if epoch ~= c.claim.epoch then return {'conflict', tostring(current)} end
  if c.claim.requireExpired then
    local lease = tonumber(redis.call('HGET', KEYS[2], step .. '|lease') or '0')
    if lease > now then return {'busy', tostring(lease - now)} end
  end
  redis.call('HSET', KEYS[2], step, tostring(epoch + 1), step .. '|lease', tostring(now + c.claim.lease),
    step .. '|owner', c.claim.owner)
end
if c.release then
  local step = c.release.step
  if tonumber(redis.call('HGET', KEYS[2], step) or '0') == c.release.epoch then
    redis.call('HSET', KEYS[2], step .. '|lease', '0')
  end
end
if c.abort then redis.call('HSET', KEYS[2], 'abort', c.abort) end
if c.lock then
  for _, l in ipairs(c.lock) do redis.call('HSET', l.k, l.f, c.id) end
end
if c.unlock then
  for _, l in ipairs(c.unlock) do
    if redis.call('HGET', l.k, l.f) == c.id then redis.call('HDEL', l.k, l.f) end
  end
end
local version = c.v + 1
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'version', tostring(version))
if c.created then redis.call('ZADD', KEYS[5], tostring(c.created), c.id) end
if c.active == true then redis.call('SADD', KEYS[6], c.id) end
if c.active == false then redis.call('SREM', KEYS[6], c.id) end
local out = {'ok', tostring(version)}
for i = 3, #ARGV do
  local id = redis.call('XADD', KEYS[3], '*', 'e', ARGV[i])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', tostring(c.maxlen), '*', 'e', ARGV[i], 'ref', id)
  out[#out + 1] = id
end
if c.publish then redis.call('PUBLISH', c.publish[1], c.publish[2]) end
return out
`;

/**
 * Renews the lease of the worker holding `epoch`; tells it when it has been fenced out or the
 * migration was aborted (a polled abort flag, in case the pub/sub message was missed).
 * KEYS: fence. ARGV: step, epoch, leaseMs. Returns 'ok' | 'fenced' | 'aborted'.
 */
export const HEARTBEAT = `
${NOW_MS}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'lost' end
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') ~= tonumber(ARGV[2]) then return 'fenced' end
redis.call('HSET', KEYS[1], ARGV[1] .. '|lease', tostring(now + tonumber(ARGV[3])))
if redis.call('HEXISTS', KEYS[1], 'abort') == 1 then return 'aborted' end
return 'ok'
`;

/**
 * A write that only the current holder of the step may make (checkpoint, progress).
 * KEYS: fence, target hash. ARGV: step, epoch, value, atIso, channel ('' for none).
 * Returns 'ok' | 'fenced'.
 */
export const FENCED_HSET = `
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') ~= tonumber(ARGV[2]) then return 'fenced' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3], ARGV[1] .. '|at', ARGV[4])
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[3]) end
return 'ok'
`;

/**
 * Appends one event unless an event with the same dedupe field was appended before (a refusal is
 * recorded once per person, step and reason, however often they click).
 * KEYS: events, globalEvents, seen (hash). ARGV: maxlen, field, event. Returns the id or false.
 */
export const APPEND_ONCE = `
if redis.call('HSETNX', KEYS[3], ARGV[2], '1') == 0 then return false end
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[3])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3], 'ref', id)
return id
`;

/** Appends events outside a transition (refusals, notes). KEYS: events, globalEvents. ARGV[1]: maxlen. */
export const APPEND = `
local out = {}
for i = 2, #ARGV do
  local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i], 'ref', id)
  out[#out + 1] = id
end
return out
`;

/**
 * Clears one server lock if it is still held by the migration named (a stale lock: its migration
 * is gone or ended). KEYS: lock hash. ARGV: field, holder id. Returns 1 when cleared, else 0.
 */
export const CLEAR_LOCK = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;
