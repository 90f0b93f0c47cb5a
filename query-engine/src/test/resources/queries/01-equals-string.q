# string equality on a tag; case-sensitive
query: SELECT * FROM devices WHERE tags.city = 'Oslo'
plan: SELECT * FROM devices WHERE (tags.city = 'Oslo')
ids: d1, d3
