# OR and IN
query: SELECT * FROM devices WHERE deviceId IN ['d2', 'd4'] OR tags.city = "oslo"
plan: SELECT * FROM devices WHERE ((deviceId IN ['d2', 'd4']) OR (tags.city = 'oslo'))
ids: d2, d4, d5
