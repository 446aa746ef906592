-- Reserve one password check for a login before the hash is checked: the attempt counts as
-- a failure from now on (a right password gives it back), unless a limit is reached.
-- KEYS[1] the account's failures from this source, KEYS[2] the account's failures from
-- every source (same {u:...} tag)
-- ARGV[1] failures allowed per source, ARGV[2] failures allowed per account, ARGV[3] window ms
-- Returns {'reserved'}, or {'too_many', ms until the window that refused it ends}.
for i, limit in ipairs({ARGV[1], ARGV[2]}) do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(limit) then
    return {'too_many', redis.call('PTTL', KEYS[i])}
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
end
return {'reserved'}
