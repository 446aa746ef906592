-- Join a student to a lesson: one atomic check-and-write.
-- KEYS[1] lesson, KEYS[2] records, KEYS[3] devices, KEYS[4] code failures, KEYS[5] roster,
-- KEYS[6] verifications, KEYS[7] addresses (all in the lesson's slot)
-- ARGV[1] student number
-- ARGV[2] the record's JSON up to, without, its closing brace; the script adds the fields it
--         decides (status, reason, flags, changed_by, changed_at)
-- ARGV[3] now (ms)
-- ARGV[4] '1' when the code sent is the lesson's current or previous code
-- ARGV[5] the client address as bits ('4:0101...'), or ''
-- ARGV[6] the device the student's own device id names (its device part), or ''
-- ARGV[7] a new verification id, used when the lesson asks for verification
-- ARGV[8] wrong codes allowed per window, ARGV[9] that window (ms)
-- ARGV[10] the lesson's event channel: the new record is published there
-- ARGV[11] the client address to compare with the other students' ('' when it names no one
--          phone: unknown, or a proxy's)
-- Counts the new record in the lesson's `count_<status>` (see store/formats.py).
-- Returns {'created', record, status}, {'exists', record}, {'not_found'}, {'not_active'},
-- {'too_many_attempts', ms to wait}, {'invalid_code'}, {'network_not_allowed'},
-- {'device_required'} or {'device_already_used'}.
-- An existing record is returned even after the lesson ended, so a retried join gets what
-- the first one got; a new join is refused once the lesson is finished or past its end.
-- A device or an address another student of the lesson joined from flags the new record
-- (`shared_device`, `shared_address`) and adds the same flag to the first student's record,
-- which is published again. With the `device` option a device is refused for a second student.
-- include: counts

local lesson = redis.call('HMGET', KEYS[1], 'status', 'end_ms', 'start_ms', 'late_after_ms',
  'sec_code', 'sec_network', 'sec_device', 'sec_verification', 'networks', 'has_roster')
if not lesson[1] then
  return {'not_found'}
end
local student = ARGV[1]
local existing = redis.call('HGET', KEYS[2], student)
if existing then
  return {'exists', existing}
end
local now = tonumber(ARGV[3])
if lesson[1] ~= 'active' or now >= tonumber(lesson[2]) then
  return {'not_active'}
end

if lesson[5] == '1' then
  local count, since = 0, now
  local failures = redis.call('HGET', KEYS[4], student)
  if failures then
    local sep = string.find(failures, ':', 1, true)
    count = tonumber(string.sub(failures, 1, sep - 1))
    since = tonumber(string.sub(failures, sep + 1))
    if since + tonumber(ARGV[9]) <= now then
      count, since = 0, now
    end
  end
  if count >= tonumber(ARGV[8]) then
    return {'too_many_attempts', tostring(since + tonumber(ARGV[9]) - now)}
  end
  if ARGV[4] ~= '1' then
    redis.call('HSET', KEYS[4], student, (count + 1) .. ':' .. since)
    return {'invalid_code'}
  end
end

if lesson[6] == '1' then
  local client = ARGV[5]
  local allowed = false
  if client ~= '' then
    for network in string.gmatch(lesson[9] or '', '[^,]+') do
      if string.sub(client, 1, string.len(network)) == network then
        allowed = true
        break
      end
    end
  end
  if not allowed then
    return {'network_not_allowed'}
  end
end

local device = ARGV[6]
local device_owner = false
if device ~= '' then
  device_owner = redis.call('HGET', KEYS[3], device)
end
if lesson[7] == '1' then
  if device == '' then
    return {'device_required'}
  end
  if device_owner and device_owner ~= student then
    return {'device_already_used'}
  end
end
local address = ARGV[11]
local address_owner = false
if address ~= '' then
  address_owner = redis.call('HGET', KEYS[7], address)
end

local decided = 'present'
if lesson[4] and lesson[4] ~= '' and now - tonumber(lesson[3]) > tonumber(lesson[4]) then
  decided = 'late'
end
local status = decided
if lesson[8] == '1' then
  status = 'pending'
end

-- The flags of a stored record: the array after its "flags" key, which no JSON string can
-- hold unescaped; a flag already there is not added twice.
local function with_flag(stored, flag)
  local quoted = '"' .. flag .. '"'
  local _, open = string.find(stored, '"flags":[', 1, true)
  local close = string.find(stored, ']', open + 1, true)
  local inside = string.sub(stored, open + 1, close - 1)
  if string.find(inside, quoted, 1, true) then
    return stored
  end
  local separator = ''
  if inside ~= '' then
    separator = ','
  end
  return string.sub(stored, 1, close - 1) .. separator .. quoted .. string.sub(stored, close)
end

local flags = {}
local others = {}
if lesson[10] == '1' and redis.call('HEXISTS', KEYS[5], student) == 0 then
  flags[#flags + 1] = '"not_on_roster"'
end
if device_owner and device_owner ~= student then
  flags[#flags + 1] = '"shared_device"'
  others[#others + 1] = {device_owner, 'shared_device'}
end
if address_owner and address_owner ~= student then
  flags[#flags + 1] = '"shared_address"'
  others[#others + 1] = {address_owner, 'shared_address'}
end
local record = ARGV[2] .. ',"status":"' .. status .. '","reason":null,"flags":[' ..
  table.concat(flags, ',') .. '],"changed_by":null,"changed_at":null}'
ensure_counts()
redis.call('HSET', KEYS[2], student, record)
if device ~= '' and not device_owner then
  redis.call('HSET', KEYS[3], device, student)
end
if address ~= '' and not address_owner then
  redis.call('HSET', KEYS[7], address, student)
end
if status == 'pending' then
  redis.call('HSET', KEYS[6], ARGV[7], student .. '|' .. decided .. '|open')
end
redis.call('HINCRBY', KEYS[1], 'count_' .. status, 1)
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('SPUBLISH', ARGV[10], record)
for _, other in ipairs(others) do
  local stored = redis.call('HGET', KEYS[2], other[1])
  if stored then
    local flagged = with_flag(stored, other[2])
    if flagged ~= stored then
      redis.call('HSET', KEYS[2], other[1], flagged)
      redis.call('SPUBLISH', ARGV[10], flagged)
    end
  end
end
return {'created', record, status}
