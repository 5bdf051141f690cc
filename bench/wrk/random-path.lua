-- Appended to report.lua when a scenario spreads its requests over many paths: each request goes
-- to <prefix><n> with n uniform in 0..count-1. Arguments (after "--" on wrk's command line):
-- prefix, count.

local prefix = "/"
local count = 1

init = function(args)
  prefix = args[1] or prefix
  count = tonumber(args[2]) or count
  math.randomseed(os.time())
end

request = function()
  return wrk.format(nil, prefix .. math.random(0, count - 1))
end
