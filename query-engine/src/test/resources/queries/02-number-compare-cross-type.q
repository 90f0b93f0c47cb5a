# numbers compare by value; a string '3' is not the number 3
query: select * from devices where tags.floor >= 3
plan: SELECT * FROM devices WHERE (tags.floor >= 3)
ids: d1, d5
