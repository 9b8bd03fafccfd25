-- The routing design ats-ingress replaces, for the proxy benchmark: a tslua
-- global plugin that asks Redis, on every request, for the backends of the
-- request's host and path, the way the original controller stored them (one
-- set per `host/path` key, members `ip:port`), picks one at random and sends
-- the request there without remap.
--
-- plugin.config (LuaJIT must be loaded globally first, or Debian's lua-socket
-- cannot load inside tslua):
--   /usr/lib/trafficserver/modules/libloader.so /usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2
--   /usr/lib/trafficserver/modules/tslua.so /abs/path/redis-route.lua port=PORT db=DB
--
-- Each Lua state (tslua runs 256) keeps one blocking connection, opened on
-- first use, with SELECT done once. A request whose path equals a route's
-- path costs one round trip (SMEMBERS); each extra path element costs one
-- more (longest prefix first). The original controller's script did more per
-- request (PING, SELECTs, an exact lookup, then the prefix walk, then
-- SRANDMEMBER on a second key), so this is the design at its best.

package.path = '/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;' .. package.path
package.cpath = '/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;' .. package.cpath

local redis = require('redis')

local redis_host = '127.0.0.1'
local redis_port = 6379
local redis_db = 0
local client = nil

function __init__(argtb)
  for _, arg in pairs(argtb) do
    local k, v = string.match(tostring(arg), '^(%a+)=(.+)$')
    if k == 'port' then
      redis_port = tonumber(v)
    elseif k == 'db' then
      redis_db = tonumber(v)
    elseif k == 'host' then
      redis_host = v
    end
  end
  math.randomseed(os.time())
  return 0
end

local function connect()
  local c = redis.connect({ host = redis_host, port = redis_port, timeout = 2 })
  if redis_db ~= 0 then
    c:select(redis_db)
  end
  return c
end

local function drop_client()
  if client ~= nil then
    pcall(function() client.network.socket:close() end)
  end
  client = nil
end

-- The members of the longest matching `host/path` key: the path itself,
-- then each parent path, then `host/`.
local function backends_for(host, path)
  if client == nil then
    client = connect()
  end
  local p = path
  while true do
    local members = client:smembers(host .. p)
    if members ~= nil and #members > 0 then
      return members
    end
    if p == '/' then
      return nil
    end
    p = string.match(p, '^(.*)/[^/]*$') or ''
    if p == '' then
      p = '/'
    end
  end
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
