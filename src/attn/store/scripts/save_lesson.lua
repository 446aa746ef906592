-- Create a lesson and make it discoverable, in one step.
-- KEYS[1] lesson hash, KEYS[2] discovery index of its (name, teacher name) pair
-- ARGV[1] lesson id, ARGV[2..] field/value pairs of the lesson hash
-- Returns 1 when created, 0 when a lesson with this id already exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
