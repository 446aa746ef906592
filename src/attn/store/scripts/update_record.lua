-- Replace one record if it is still what the caller read (compare-and-set), appending an
-- audit entry and optionally settling a verification, in one step.
-- KEYS[1] lesson, KEYS[2] records, KEYS[3] audit, KEYS[4] verifications
-- ARGV[1] student number, ARGV[2] the record as read ('' when there was none),
-- ARGV[3] the new record, ARGV[4] the audit entry or '', ARGV[5] a verification id or '',
-- ARGV[6] that verification's new value, ARGV[7] the lesson's event channel
-- The lesson's `count_<status>` follow the record's status (see store/formats.py).
-- Returns 'ok', 'conflict' (the record changed meanwhile) or 'gone' (no such live lesson).
-- include: counts

if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'gone'
end
local current = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if current ~= ARGV[2] then
  return 'conflict'
end
if ARGV[5] ~= '' then
  local verification = redis.call('HGET', KEYS[4], ARGV[5])
  if not verification or string.sub(verification, -5) ~= '|open' then
    return 'conflict'
  end
  redis.call('HSET', KEYS[4], ARGV[5], ARGV[6])
end
if ARGV[3] ~= ARGV[2] then
  ensure_counts()
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  local old_status = ARGV[2] ~= '' and status_of(ARGV[2])
  local new_status = status_of(ARGV[3])
  if old_status ~= new_status then
    if old_status then
      redis.call('HINCRBY', KEYS[1], 'count_' .. old_status, -1)
    end
    redis.call('HINCRBY', KEYS[1], 'count_' .. new_status, 1)
  end
end
if ARGV[4] ~= '' then
  redis.call('RPUSH', KEYS[3], ARGV[4])
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
if ARGV[3] ~= ARGV[2] then
  redis.call('SPUBLISH', ARGV[7], ARGV[3])
end
return 'ok'
