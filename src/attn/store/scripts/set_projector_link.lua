-- Give a lesson a new projector link (revoking the current one), or revoke the current one.
-- KEYS[1] lesson hash, KEYS[2] the lesson's projector link hash
-- ARGV[1] teacher's school number, ARGV[2] 'new' or 'revoke', ARGV[3] now (ms)
-- Returns {'ok', generation of the current link}, {'not_found'} (no such lesson of this
-- teacher) or {'not_active'} (a new link for a lesson that has ended).
local lesson = redis.call('HMGET', KEYS[1], 'teacher_school_number', 'status', 'end_ms')
if not lesson[1] or lesson[1] ~= ARGV[1] then
  return {'not_found'}
end
if ARGV[2] == 'new' then
  if lesson[2] ~= 'active' or tonumber(ARGV[3]) >= tonumber(lesson[3]) then
    return {'not_active'}
  end
  local generation = redis.call('HINCRBY', KEYS[2], 'generation', 1)
  redis.call('HSET', KEYS[2], 'revoked', 0)
  return {'ok', generation}
end
redis.call('HSET', KEYS[2], 'revoked', 1)
local generation = redis.call('HGET', KEYS[2], 'generation') or 0
redis.call('HSET', KEYS[2], 'generation', generation)
return {'ok', tonumber(generation)}
