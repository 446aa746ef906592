-- Release a teacher's active-lesson claim if it still names the given lesson.
-- KEYS[1] teacher's active-lesson claim; ARGV[1] lesson id
-- Returns 'released', or 'not_held' when the claim names another lesson or none.
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
  return 'released'
end
return 'not_held'
