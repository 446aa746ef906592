-- Read the word index's narrowest range among the query's words, bounded.
-- KEYS[1] the word index (one sorted set, every score 0, read lexicographically)
-- ARGV[1] at most how many entries to return, then one (min, max) ZRANGEBYLEX bound pair for
-- each word of the query (each the range of the entries whose word starts with it)
-- Returns the entries of the range with the fewest entries (ZLEXCOUNT), at most ARGV[1] + 1 of
-- them (one more than asked, so the caller knows there are more); none when a range is empty.
local limit = tonumber(ARGV[1])
local best_min, best_max, best_count = nil, nil, nil
for i = 2, #ARGV, 2 do
  local count = redis.call('ZLEXCOUNT', KEYS[1], ARGV[i], ARGV[i + 1])
  if best_count == nil or count < best_count then
    best_min, best_max, best_count = ARGV[i], ARGV[i + 1], count
  end
  if count == 0 then
    return {}
  end
end
if best_count == nil then
  return {}
end
return redis.call('ZRANGEBYLEX', KEYS[1], best_min, best_max, 'LIMIT', 0, limit + 1)
