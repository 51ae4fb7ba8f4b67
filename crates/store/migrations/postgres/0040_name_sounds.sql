-- Sound-alike name lookup: every word of the name dictionary under each of its Double Metaphone keys
-- ("sofia" and "sophia" both under SF). Filled from the dictionary when the store opens, then kept with it.
-- Kept in lockstep with ../sqlite/0040_name_sounds.sql.
CREATE TABLE name_sounds (
    sound TEXT NOT NULL,
    term  TEXT NOT NULL,
    PRIMARY KEY (sound, term)
);

-- ID numbers are searched by prefix range, which must compare bytes as on SQLite (see 0001).
ALTER TABLE customers ALTER COLUMN id_number_key TYPE TEXT COLLATE "C";
