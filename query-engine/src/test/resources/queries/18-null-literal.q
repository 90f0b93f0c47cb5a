# comparing with null: no stored value is JSON null
query: SELECT * FROM devices WHERE tags.city = null OR tags.city != 'Oslo'
plan: SELECT * FROM devices WHERE ((tags.city = null) OR (tags.city != 'Oslo'))
ids: d2, d5
