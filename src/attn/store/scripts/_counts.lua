-- Shared by the scripts that create or change a record (included where a script says
-- `-- include: counts`; KEYS[1] is the lesson, KEYS[2] its records).
-- The lesson's counters by status (`count_<status>`), kept in the step that changes a record.
-- A lesson stored before the counters gets them here, its records counted once.
local STATUSES = {'present', 'late', 'pending', 'rejected', 'excused', 'absent'}
local function status_of(stored)
  return string.match(stored, '"status":"(%a+)"')
end
local function ensure_counts()
  if redis.call('HEXISTS', KEYS[1], 'count_present') == 1 then
    return
  end
  local counts = {}
  for _, status in ipairs(STATUSES) do
    counts[status] = 0
  end
  for _, stored in ipairs(redis.call('HVALS', KEYS[2])) do
    local status = status_of(stored)
    if counts[status] then
      counts[status] = counts[status] + 1
    end
  end
  local fields = {}
  for _, status in ipairs(STATUSES) do
    fields[#fields + 1] = 'count_' .. status
    fields[#fields + 1] = counts[status]
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('HDEL', KEYS[1], 'attendee_count')
end
