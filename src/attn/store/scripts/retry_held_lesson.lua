-- Put a lesson the sweep set aside back into the persistence queue, due at once.
-- KEYS[1] held lessons, KEYS[2] due queue, KEYS[3] claims (same {sweep} tag)
-- ARGV[1] lesson id, ARGV[2] now (ms)
-- Returns 'queued', or 'not_held' when the lesson is not held (nothing is changed).
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 'not_held'
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 'queued'
