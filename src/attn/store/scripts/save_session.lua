-- Open a user's session (replacing the previous one), unless the account was changed since
-- the sign-in looked at it: its epoch moved on (see `end_user_sessions`).
-- KEYS[1] the session, KEYS[2] the account epoch
-- ARGV[1] the session's JSON, ARGV[2] its lifetime (s), ARGV[3] the epoch the sign-in read
-- Returns 'saved' or 'changed'.
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[3] then
  return 'changed'
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 'saved'
