-- Release a teacher's active-lesson claim if it still names the given lesson.
-- KEYS[1] teacher's active-lesson claim; ARGV[1] lesson id
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
