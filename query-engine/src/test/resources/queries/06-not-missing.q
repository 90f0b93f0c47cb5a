# NOT of a comparison with a missing field stays undefined
query: SELECT * FROM devices WHERE NOT (properties.reported.fw = '1.2.0')
plan: SELECT * FROM devices WHERE (NOT (properties.reported.fw = '1.2.0'))
ids: d2, d5
