-- Claim a teacher's single active-lesson slot and list the new lesson under the teacher.
-- KEYS[1] teacher's active-lesson claim, KEYS[2] teacher's lesson list (same {u:...} tag)
-- ARGV[1] lesson id, ARGV[2] start ms, ARGV[3] end ms, ARGV[4] claim value,
-- ARGV[5] a stale claim value the caller has proved dead and may replace, or ''
-- Returns {'claimed'}, or {'taken', current claim value} when another claim holds the slot.
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[5] then
  return {'taken', current}
end
redis.call('SET', KEYS[1], ARGV[4], 'PXAT', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return {'claimed'}
