package redis

import goredis "github.com/redis/go-redis/v9"

// Script results.
const (
	resOK           = 0
	resPrecondition = 1
	resNotFound     = 2
	resExpired      = 3
)

// luaCheck evaluates If-Match (ARGV[1]) and If-None-Match (ARGV[2]) against
// the current version cur (false when the key does not exist).
const luaCheck = `
local function lost(cur)
  if ARGV[2] == '*' and cur then return true end
  if ARGV[1] ~= '' and cur ~= ARGV[1] then return true end
  return false
end
`

// luaSwitch retires the current version's chunks (grace expiry), makes the
// new version's chunks permanent (or expire with the blob) and points the
// metadata hash and the index at the new version. It expects cur, curn,
// version, n, size, ctype, member, cprefix, grace, ttl in scope and returns
// the modification time in ms.
const luaSwitch = `
local function switch(cur, curn, version, n, size, ctype, member, cprefix, grace, ttl)
  if cur then
    for i = 0, tonumber(curn) - 1 do
      redis.call('PEXPIRE', cprefix .. cur .. ':' .. i, grace)
    end
  end
  for i = 0, n - 1 do
    local ck = cprefix .. version .. ':' .. i
    if ttl > 0 then redis.call('PEXPIRE', ck, ttl + grace) else redis.call('PERSIST', ck) end
  end
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], 'v', version, 's', size, 'n', n, 'c', ctype, 't', ms)
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
  redis.call('ZADD', KEYS[2], 0, member)
  return ms
end
`

// putSmallScript writes a blob of at most one chunk in one round trip.
// KEYS: meta, index, counter. ARGV: ifMatch, ifNoneMatch, size, ctype,
// member, chunk prefix, grace ms, ttl ms, data.
var putSmallScript = goredis.NewScript(luaCheck + luaSwitch + `
local cur = redis.call('HMGET', KEYS[1], 'v', 'n')
if lost(cur[1]) then return {1} end
local version = tostring(redis.call('INCR', KEYS[3]))
local n = 0
if tonumber(ARGV[3]) > 0 then
  n = 1
  redis.call('SET', ARGV[6] .. version .. ':0', ARGV[9])
end
local ms = switch(cur[1], cur[2], version, n, ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]))
return {0, version, ms}
`)

// commitScript switches a key to chunks already written under version.
// KEYS: meta, index. ARGV: ifMatch, ifNoneMatch, version, n, size, ctype,
// member, chunk prefix, grace ms, ttl ms.
var commitScript = goredis.NewScript(luaCheck + luaSwitch + `
local cur = redis.call('HMGET', KEYS[1], 'v', 'n')
if lost(cur[1]) then return {1} end
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
  if redis.call('EXISTS', ARGV[8] .. ARGV[3] .. ':' .. i) == 0 then return {3} end
end
local ms = switch(cur[1], cur[2], ARGV[3], n, ARGV[5], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]))
return {0, ARGV[3], ms}
`)

// getScript returns a blob's metadata and, when the blob is at most
// ARGV[2] bytes, its first chunk, in one round trip. Larger chunks are
// fetched with plain GETs, which copy less than a script's reply.
// KEYS: meta. ARGV: chunk prefix, inline limit. Flag: 1 chunk inlined,
// 0 chunk expired, 2 not inlined.
var getScript = goredis.NewScript(`
local m = redis.call('HMGET', KEYS[1], 'v', 's', 'n', 'c', 't')
if not m[1] then return false end
if tonumber(m[2]) > tonumber(ARGV[2]) then return {m[1], m[2], m[3], m[4], m[5], 2} end
local first = ''
if tonumber(m[3]) > 0 then
  first = redis.call('GET', ARGV[1] .. m[1] .. ':0')
  if not first then return {m[1], m[2], m[3], m[4], m[5], 0} end
end
return {m[1], m[2], m[3], m[4], m[5], 1, first}
`)

// deleteScript removes a key, optionally only at a given version.
// KEYS: meta, index. ARGV: ifMatch, member, chunk prefix, grace ms.
var deleteScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'n')
if not cur[1] then
  if ARGV[1] ~= '' then return 1 end
  return 2
end
if ARGV[1] ~= '' and cur[1] ~= ARGV[1] then return 1 end
for i = 0, tonumber(cur[2]) - 1 do
  redis.call('PEXPIRE', ARGV[3] .. cur[1] .. ':' .. i, ARGV[4])
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 0
`)

// pruneScript drops index entries whose blob expired (ttl). Checking and
// removing in one script keeps a concurrent re-creation listed.
// KEYS: index. ARGV: meta prefix, members...
var pruneScript = goredis.NewScript(`
local removed = 0
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
`)
