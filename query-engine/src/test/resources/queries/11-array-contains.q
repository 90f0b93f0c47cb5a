# ARRAY_CONTAINS over a reported array
query: SELECT * FROM devices WHERE ARRAY_CONTAINS(properties.reported.arr, 2)
plan: SELECT * FROM devices WHERE ARRAY_CONTAINS(properties.reported.arr, 2)
ids: d3
