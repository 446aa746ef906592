-- Claim due lessons for one sweeper: those due by now whose claim is missing or ran out.
-- KEYS[1] due queue, KEYS[2] claims (same {sweep} tag)
-- ARGV[1] now (ms), ARGV[2] lease (ms), ARGV[3] how many at most
-- Returns {'claimed', lesson ids...}; each is claimed until now + lease.
local now = tonumber(ARGV[1])
local until_ms = now + tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local claimed = {'claimed'}
local offset = 0
while #claimed - 1 < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', offset, 256)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local held = redis.call('ZSCORE', KEYS[2], id)
    if not held or tonumber(held) <= now then
      redis.call('ZADD', KEYS[2], until_ms, id)
      claimed[#claimed + 1] = id
      if #claimed - 1 >= limit then
        break
      end
    end
  end
  offset = offset + #ids
end
return claimed
