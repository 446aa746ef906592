-- Read the word index's narrowest range among the query's words, bounded.
-- KEYS[1] the word index (one sorted set, every score 0, read lexicographically)
-- ARGV[1] at most how many entries to return, then one (min, max) ZRANGEBYLEX bound pair for
-- each word of the query (each the range of the entries whose word starts with it)
-- Returns {'found', entries...} with every entry of the range that has the fewest entries
-- (ZLEXCOUNT), or {'more', entries...} with the first ARGV[1] of them when it has more;
-- {'found'} when a word's range is empty (no lesson has every word) or no word was given.
local limit = tonumber(ARGV[1])
local best_min, best_max, best_count = nil, nil, nil
for i = 2, #ARGV, 2 do
  local count = redis.call('ZLEXCOUNT', KEYS[1], ARGV[i], ARGV[i + 1])
  if count == 0 then
    return {'found'}
  end
  if best_count == nil or count < best_count then
    best_min, best_max, best_count = ARGV[i], ARGV[i + 1], count
  end
end
if best_count == nil then
  return {'found'}
end
local entries = redis.call('ZRANGEBYLEX', KEYS[1], best_min, best_max, 'LIMIT', 0, limit)
table.insert(entries, 1, best_count > limit and 'more' or 'found')
return entries
