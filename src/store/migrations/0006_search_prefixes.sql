-- The search index keeps prefixes of 2 to 8 characters (was 2 and 3). Every search term is a
-- prefix ("pars" finds "parser"); a prefix longer than the index holds made FTS5 merge the
-- doclists of every matching term at query time, which was half the time of a two-word search
-- over 100,000 packages (make bench, target 6). The index grows by about half. The triggers of
-- 0001 keep filling the table by name; its content stays in `packages` (external content), so
-- the rebuild reads it from there.
DROP TABLE packages_fts;

CREATE VIRTUAL TABLE packages_fts USING fts5 (
    name,
    description,
    keywords,
    tags,
    categories,
    content = 'packages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6 7 8'
);

INSERT INTO packages_fts (packages_fts) VALUES ('rebuild');
