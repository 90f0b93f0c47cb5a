# no condition: every device twin
query: SELECT TOP 2 * FROM devices
plan: SELECT TOP 2 * FROM devices
ids: d1, d2, d3, d4, d5
