-- Join a student to a lesson: one atomic check-and-write.
-- KEYS[1] lesson hash, KEYS[2] the lesson's records hash
-- ARGV[1] student number, ARGV[2] the record (JSON), ARGV[3] now (ms)
-- Returns {'created', record}, {'exists', existing record}, {'not_found'} or {'not_active'}.
-- An existing record is returned even after the lesson ended, so a retried join gets
-- what the first one got; a new join is refused once the lesson is finished or past its end.
local lesson = redis.call('HMGET', KEYS[1], 'status', 'end_ms')
if not lesson[1] then
  return {'not_found'}
end
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
  return {'exists', existing}
end
if lesson[1] ~= 'active' or tonumber(ARGV[3]) >= tonumber(lesson[2]) then
  return {'not_active'}
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'attendee_count', 1)
redis.call('HINCRBY', KEYS[1], 'version', 1)
return {'created', ARGV[2]}
