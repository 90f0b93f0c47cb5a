# constant arithmetic and a false conjunct fold away
query: SELECT * FROM devices WHERE tags.floor = 1 + 2 OR (1 = 2 AND deviceId = 'd2')
plan: SELECT * FROM devices WHERE (tags.floor = 3)
ids: d1
