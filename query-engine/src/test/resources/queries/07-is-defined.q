# IS_DEFINED and case-insensitive system fields
query: SELECT * FROM devices WHERE IS_DEFINED(properties.reported.fw) AND ConnectionState = 'Connected'
plan: SELECT * FROM devices WHERE ((connectionState = 'Connected') AND IS_DEFINED(properties.reported.fw))
ids: d1, d5
