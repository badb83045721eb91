-- String processing: building, formatting, pattern matching, gsub and table-based counting.
local n = assert(tonumber(arg[1]), "usage: strings.lua N")
local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }
local state = 7
local function rand(k)
  state = (state * 1103515245 + 12345) % 2147483648
  return (state >> 16) % k
end

local counts, total, hash = {}, 0, 0
for round = 1, n do
  local parts = {}
  for i = 1, 40 do
    parts[i] = words[rand(#words) + 1] .. string.format("%03d", rand(1000))
  end
  local line = table.concat(parts, " ")
  line = line:gsub("(%a+)(%d+)", function(w, d) return w:upper() .. "-" .. d end)
  for w in line:gmatch("%u+") do
    counts[w] = (counts[w] or 0) + 1
    total = total + 1
  end
  for i = 1, #line, 7 do hash = (hash * 33 + line:byte(i)) % 4294967296 end
end

local keys = {}
for k in pairs(counts) do keys[#keys + 1] = k end
table.sort(keys)
local summary = {}
for _, k in ipairs(keys) do summary[#summary + 1] = k .. "=" .. counts[k] end
print(string.format("words %d hash %d", total, hash))
print(table.concat(summary, " "))
