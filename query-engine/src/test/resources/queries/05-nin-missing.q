# NIN on a missing field is undefined, so d4 (no tags) does not match
query: SELECT * FROM devices WHERE tags.city NIN ['Oslo']
plan: SELECT * FROM devices WHERE (tags.city NIN ['Oslo'])
ids: d2, d5
