-- The routing design ats-ingress replaces, for the proxy benchmark: a tslua
-- global plugin that asks Redis, on every request, for the backends of the
-- request's host and path and sends the request to one of them without remap.
-- Written for this benchmark from a description of the original controller's
-- lookup; nothing here is copied from it.
--
-- The data (bench/proxy/routes.ts writes it): one Redis set per route, key
-- `host` .. `path` (`h5.bench.test/p3`), members `ip:port` of its backends;
-- Exact rules in database `exact=`, Prefix rules in database `prefix=`. A
-- wildcard host is stored as `*.rest.of.name`, the catch-all with no host
-- (key `/path`).
--
-- The lookup, in the original's order, until a set is not empty:
--   1. the exact key host .. path in the Exact database;
--   2. host .. p in the Prefix database, for p the path, then each of its
--      parents, longest first, down to `/`;
--   3. the same walk for the wildcard host `*.` .. (host without its first
--      label);
--   4. the same walk with no host (the catch-all).
-- Then a random member of the set is the upstream.
--
-- mode=original (the default): every key asked is its own SELECT of the key's
-- database and its own SMEMBERS, each a blocking round trip as the original
-- did: for GET /p3/item routed by Prefix /p3, SELECT+SMEMBERS of the exact
-- key, of host/p3/item and of host/p3: 6 round trips.
-- mode=pipelined: the same SELECTs and SMEMBERS of steps 1 and 2 sent in one
-- pipelined write and read back together, so a request that a step 1 or 2 key
-- routes costs one round trip (steps 3 and 4 a second one): the design at its
-- best, for a bound.
--
-- plugin.config (LuaJIT must be loaded globally first, or Debian's lua-socket
-- cannot load inside tslua):
--   /usr/lib/trafficserver/modules/libloader.so /usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2
--   /usr/lib/trafficserver/modules/tslua.so /abs/path/redis-route.lua port=PORT exact=DB prefix=DB [mode=pipelined]
--
-- Each Lua state (tslua runs 256) keeps one blocking connection, opened on
-- first use.

package.path = '/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;' .. package.path
package.cpath = '/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;' .. package.cpath

local redis = require('redis')

local redis_host = '127.0.0.1'
local redis_port = 6379
local exact_db = 0
local prefix_db = 1
local pipelined = false
local client = nil

function __init__(argtb)
  for _, arg in pairs(argtb) do
    local k, v = string.match(tostring(arg), '^(%a+)=(.+)$')
    if k == 'port' then
      redis_port = tonumber(v)
    elseif k == 'exact' then
      exact_db = tonumber(v)
    elseif k == 'prefix' then
      prefix_db = tonumber(v)
    elseif k == 'host' then
      redis_host = v
    elseif k == 'mode' then
      if v ~= 'original' and v ~= 'pipelined' then
        ts.error('redis-route: mode must be original or pipelined, not ' .. v)
        return -1
      end
      pipelined = v == 'pipelined'
    end
  end
  math.randomseed(os.time())
  return 0
end

local function drop_client()
  if client ~= nil then
    pcall(function() client.network.socket:close() end)
  end
  client = nil
end

-- The path and its parents, longest first, ending with '/'. A trailing slash
-- is not part of a key ('/a/' is looked up as '/a').
local function walk(path)
  local out = {}
  local p = string.gsub(path, '/+$', '')
  while p ~= '' do
    out[#out + 1] = p
    p = string.match(p, '^(.*)/[^/]*$') or ''
  end
  out[#out + 1] = '/'
  return out
end

-- The keys of steps 1 and 2, and of steps 3 and 4, as {db, key} pairs in order.
local function candidates(host, path)
  local prefixes = walk(path)
  local first = { { exact_db, host .. path } }
  for _, p in ipairs(prefixes) do
    first[#first + 1] = { prefix_db, host .. p }
  end
  local fallback = {}
  local parent = string.match(host, '^[^.]+(%..+)$')
  if parent ~= nil then
    for _, p in ipairs(prefixes) do
      fallback[#fallback + 1] = { prefix_db, '*' .. parent .. p }
    end
  end
  for _, p in ipairs(prefixes) do
    fallback[#fallback + 1] = { prefix_db, p }
  end
  return first, fallback
end

-- One round trip per command, as the original did.
local function ask_one_by_one(keys)
  for _, k in ipairs(keys) do
    client:select(k[1])
    local members = client:smembers(k[2])
    if members ~= nil and #members > 0 then
      return members
    end
  end
  return nil
end

-- Every command of `keys` in one write; the first non-empty set wins.
local function ask_pipelined(keys)
  local replies = client:pipeline(function(p)
    for _, k in ipairs(keys) do
      p:select(k[1])
      p:smembers(k[2])
    end
  end)
  for i = 2, #replies, 2 do
    local members = replies[i]
    if type(members) == 'table' and #members > 0 then
      return members
    end
  end
  return nil
end

local function backends_for(host, path)
  if client == nil then
    client = redis.connect({ host = redis_host, port = redis_port, timeout = 2 })
  end
  local ask = pipelined and ask_pipelined or ask_one_by_one
  local first, fallback = candidates(host, path)
  return ask(first) or ask(fallback)
end

function do_global_read_request()
  local host = ts.client_request.header['Host'] or ''
  host = string.lower((string.gsub(host, ':%d+$', '')))
  local path = ts.client_request.get_uri() or '/'
  if string.sub(path, 1, 1) ~= '/' then
    path = '/' .. path
  end

  local ok, members = pcall(backends_for, host, path)
  if not ok then
    ts.error('redis-route: redis lookup failed: ' .. tostring(members))
    drop_client()
    return 0
  end
  if members == nil then
    return 0 -- no route: remap_required answers 404
  end

  local member = members[math.random(#members)]
  local ip, port = string.match(member, '^(.+):(%d+)$')
  if ip == nil then
    ts.error('redis-route: bad member ' .. member .. ' for ' .. host .. path)
    return 0
  end
  ts.client_request.set_url_scheme('http')
  ts.client_request.set_url_host(ip)
  ts.client_request.set_url_port(tonumber(port))
  ts.http.skip_remapping_set(1)
  return 0
end
