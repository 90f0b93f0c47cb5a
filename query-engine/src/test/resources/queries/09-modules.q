# devices.modules selects module twins only
query: SELECT * FROM devices.modules WHERE properties.reported.temp > 20
plan: SELECT * FROM devices.modules WHERE (properties.reported.temp > 20)
ids: d1/m1
