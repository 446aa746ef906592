-- Give back a login's reserved attempt (see reserve_login_attempt.lua).
-- KEYS[1] the account's failures from this source, KEYS[2] the account's failures from
-- every source (same {u:...} tag)
-- ARGV[1] '1' when the password was right: the source's earlier failures are forgiven too;
-- '0' when the check could not be made (a store failed): only this attempt is given back
-- Returns 'released'. A counter whose window ended meanwhile is left alone (never recreated
-- without its expiry).
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  redis.call('DECR', KEYS[2])
end
return 'released'
