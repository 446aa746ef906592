-- Open one of a user's event streams, unless the user already has as many open as allowed.
-- Streams whose lease ran out (their worker died, say) no longer count.
-- KEYS[1] the user's open streams (sorted set: stream id -> lease end ms, {u:...} tag)
-- ARGV[1] stream id, ARGV[2] now ms, ARGV[3] lease end ms, ARGV[4] most streams allowed
-- Returns {'opened'}, or {'too_many', ms until the first open stream's lease ends}.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {'too_many', tonumber(first[2]) - tonumber(ARGV[2])}
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return {'opened'}
