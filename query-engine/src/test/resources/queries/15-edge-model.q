# capabilities and modelId
query: SELECT * FROM devices WHERE capabilities.iotEdge = true AND modelId = 'dtmi:herd:x;1'
plan: SELECT * FROM devices WHERE ((capabilities.iotEdge = true) AND (modelId = 'dtmi:herd:x;1'))
ids: d4
