-- End everything a user is signed in with, at once: the session and every remembered
-- device's refresh token; and move the account epoch on, so that a sign-in that read the
-- account before now opens nothing (`save_session`, `save_refresh_token`).
-- KEYS[1] the session, KEYS[2] the remembered devices, KEYS[3] the account epoch, KEYS[4..]
-- the refresh tokens of ARGV[2..], the devices the caller found listed just before
-- ARGV[1] how long the epoch is kept (ms), ARGV[2..] the devices the caller found listed
-- Returns the devices listed after the caller looked, whose tokens the caller deletes.
local token_of = {}
for i = 2, #ARGV do
  token_of[ARGV[i]] = KEYS[i + 2]
end
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[1])
local unseen = {}
for _, device in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if token_of[device] then
    redis.call('DEL', token_of[device])
  else
    table.insert(unseen, device)
  end
end
redis.call('DEL', KEYS[2])
return unseen
