# properties.desired.$version and arithmetic on a field
query: SELECT * FROM devices WHERE properties.desired.$version = 5 AND properties.desired.temp % 2 = 0
plan: SELECT * FROM devices WHERE ((properties.desired.$version = 5) AND ((properties.desired.temp % 2) = 0))
ids: d1, d5
