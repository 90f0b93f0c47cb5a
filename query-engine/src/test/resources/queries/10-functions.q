# string functions
query: SELECT * FROM devices WHERE STARTS_WITH(properties.reported.fw, '1.') AND LOWER(tags.city) = 'oslo'
plan: SELECT * FROM devices WHERE (STARTSWITH(properties.reported.fw, '1.') AND (LOWER(tags.city) = 'oslo'))
ids: d1
