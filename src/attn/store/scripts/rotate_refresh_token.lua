-- Rotate a remembered device's refresh token: put the new one in place of the old only if the
-- old is still the one stored, so that each refresh token is traded in at most once.
-- KEYS[1] the device's refresh token
-- ARGV[1] the SHA-256 digest of the token traded in, ARGV[2] the new token's JSON
-- Returns {'rotated'}; {'stale'} when another token is stored (this one was used already);
-- {'gone'} when none is (revoked or expired). The new token keeps the old one's expiry.
local raw = redis.call('GET', KEYS[1])
if not raw then
  return {'gone'}
end
if cjson.decode(raw)['token_digest'] ~= ARGV[1] then
  return {'stale'}
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return {'rotated'}
