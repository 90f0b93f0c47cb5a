# AND flattened, identity test moved before the tag path
query: SELECT * FROM devices WHERE tags.city = 'Oslo' AND (properties.reported.temp > 20 AND status = 'enabled')
plan: SELECT * FROM devices WHERE ((status = 'enabled') AND (tags.city = 'Oslo') AND (properties.reported.temp > 20))
ids: d1
