# GROUP BY plan; the condition matches every device
query: SELECT status, COUNT() AS n FROM devices GROUP BY status
plan: SELECT status, COUNT() AS n FROM devices GROUP BY status
ids: d1, d2, d3, d4, d5
