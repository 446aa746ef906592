-- Remove a persisted lesson's live data, only if it did not change since it was read.
-- KEYS[1] lesson hash, KEYS[2] discovery index, KEYS[3..] the lesson's other keys
-- ARGV[1] lesson id, ARGV[2] the version that was persisted
-- Returns 'deleted', 'changed' (the lesson changed meanwhile) or 'gone' (already gone).
local version = redis.call('HGET', KEYS[1], 'version')
if not version then
  return 'gone'
end
if version ~= ARGV[2] then
  return 'changed'
end
redis.call('DEL', KEYS[1], unpack(KEYS, 3))
redis.call('SREM', KEYS[2], ARGV[1])
return 'deleted'
