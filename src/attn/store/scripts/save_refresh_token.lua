-- Remember a device: store its refresh token and list it under the user, revoking the
-- oldest remembered devices beyond the cap (the device being saved is never one of them).
-- Nothing is saved when the account was changed since the sign-in looked at it (its epoch
-- moved on: `end_user_sessions`).
-- KEYS[1] the device's refresh token, KEYS[2] the user's remembered devices (device key ->
-- when its token was issued, ms), KEYS[3] the account epoch, KEYS[4..] the refresh tokens of
-- ARGV[7..], the devices the caller found listed just before (all the same {u:...} tag)
-- ARGV[1] the token's JSON, ARGV[2] device key, ARGV[3] issued ms, ARGV[4] its lifetime ms,
-- ARGV[5] devices allowed per user, ARGV[6] the epoch the sign-in read, ARGV[7..] the
-- devices the caller found listed
-- Returns {'changed'}, or {'saved', device, ...}: the revoked devices listed after the caller
-- looked, whose tokens are not among KEYS; they are unlisted here and the caller deletes
-- their tokens.
-- A listed device whose token ran out by itself is the oldest, so it is the first to go.
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[6] then
  return {'changed'}
end
local token_of = {}
for i = 7, #ARGV do
  token_of[ARGV[i]] = KEYS[i - 3]
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
local reply = {'saved'}
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if extra > 0 then
  local revoked = {}
  for _, device in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if #revoked == extra then
      break
    end
    if device ~= ARGV[2] then
      table.insert(revoked, device)
      if token_of[device] then
        redis.call('DEL', token_of[device])
      else
        table.insert(reply, device)
      end
    end
  end
  redis.call('ZREM', KEYS[2], unpack(revoked))
end
-- the list lives as long as its longest-lived token
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return reply
