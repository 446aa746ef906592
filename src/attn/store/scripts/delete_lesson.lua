-- Finish a teacher's active lesson: mark it finished and drop it from the discovery index
-- in one step. Its data stays for the persistence job.
-- KEYS[1] lesson hash, KEYS[2] discovery index
-- ARGV[1] lesson id, ARGV[2] teacher's school number, ARGV[3] now (ms)
-- Returns {'ok', lesson fields...}, {'not_found'} or {'not_active'}.
local lesson = redis.call('HMGET', KEYS[1], 'teacher_school_number', 'status', 'end_ms')
if not lesson[1] or lesson[1] ~= ARGV[2] then
  return {'not_found'}
end
if lesson[2] ~= 'active' or tonumber(ARGV[3]) >= tonumber(lesson[3]) then
  return {'not_active'}
end
redis.call('HSET', KEYS[1], 'status', 'finished', 'finished_ms', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('SREM', KEYS[2], ARGV[1])
local result = redis.call('HGETALL', KEYS[1])
table.insert(result, 1, 'ok')
return result
