# nested tag path
query: SELECT * FROM devices WHERE tags.building.name = 'A'
plan: SELECT * FROM devices WHERE (tags.building.name = 'A')
ids: d1
