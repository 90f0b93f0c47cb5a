# $metadata last-updated time of a reported property (ISO strings compare in time order)
query: SELECT * FROM devices WHERE properties.reported.$metadata.temp.$lastUpdated < '2024-06-01'
plan: SELECT * FROM devices WHERE (properties.reported.$metadata.temp.$lastUpdated < '2024-06-01')
ids: d1, d2, d3, d5
