-- Create a lesson and make it discoverable, in one step.
-- KEYS[1] lesson hash, KEYS[2] discovery index of its (name, teacher name) pair,
-- KEYS[3] the lesson's roster
-- ARGV[1] lesson id, ARGV[2] how many field/value arguments follow, then the lesson hash's
-- field/value pairs, then the roster's student/full name pairs
-- Returns 'created', or 'exists' when a lesson with this id already exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 'exists'
end
local fields = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + fields))
local roster_start = 3 + fields
local batch = 500
while roster_start <= #ARGV do
  local roster_end = math.min(roster_start + batch * 2 - 1, #ARGV)
  redis.call('HSET', KEYS[3], unpack(ARGV, roster_start, roster_end))
  roster_start = roster_end + 1
end
redis.call('SADD', KEYS[2], ARGV[1])
return 'created'
