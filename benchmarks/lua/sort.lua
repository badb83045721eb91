-- Sorts N pseudo-random integers with table.sort and a comparator, then with a hand-written
-- merge sort, and prints a checksum of the result (integer arithmetic only).
local n = assert(tonumber(arg[1]), "usage: sort.lua N")
local state = 12345
local function rand()
  -- 64-bit LCG (Knuth's MMIX constants); Lua integers wrap around
  state = state * 6364136223846793005 + 1442695040888963407
  return (state >> 33) % 1000003
end

local a, b = {}, {}
for i = 1, n do
  local v = rand()
  a[i], b[i] = v, v
end
table.sort(a, function(x, y) return x > y end)

local function merge_sort(t, lo, hi, tmp)
  if hi - lo < 1 then return end
  local mid = (lo + hi) // 2
  merge_sort(t, lo, mid, tmp)
  merge_sort(t, mid + 1, hi, tmp)
  local i, j, k = lo, mid + 1, lo
  while i <= mid and j <= hi do
    if t[i] <= t[j] then tmp[k] = t[i]; i = i + 1 else tmp[k] = t[j]; j = j + 1 end
    k = k + 1
  end
  while i <= mid do tmp[k] = t[i]; i = i + 1; k = k + 1 end
  while j <= hi do tmp[k] = t[j]; j = j + 1; k = k + 1 end
  for x = lo, hi do t[x] = tmp[x] end
end
merge_sort(b, 1, n, {})

local sum = 0
for i = 1, n do
  assert(a[i] == b[n + 1 - i], "the two sorts disagree")
  sum = (sum * 31 + b[i] * i) % 4294967296
end
print(string.format("sorted %d checksum %d", n, sum))
