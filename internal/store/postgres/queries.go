package postgres

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The SQL of the store, PostgreSQL's dialect of the SQLite backend's queries. Differences:
// $n placeholders; conflicts are answered with ON CONFLICT DO NOTHING and a row count (a failed
// statement would abort the whole batch transaction, not just itself); writers serialize on the
// changes row.
const (
	sqlGet      = `SELECT id, path, data FROM records WHERE account = $1 AND kind = $2 AND key = $3`
	sqlGetByID  = `SELECT account, key, path, data FROM records WHERE kind = $1 AND id = $2`
	sqlInsert   = `INSERT INTO records (account, kind, key, id, path, data) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	sqlExists   = `SELECT EXISTS (SELECT 1 FROM records WHERE account = $1 AND kind = $2 AND key = $3)`
	sqlDelete   = `DELETE FROM records WHERE account = $1 AND kind = $2 AND key = $3`
	sqlAddLink  = `INSERT INTO links (account, kind, src, dst) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	sqlRmLink   = `DELETE FROM links WHERE account = $1 AND kind = $2 AND src = $3 AND dst = $4`
	sqlLinksFr  = `SELECT dst FROM links WHERE account = $1 AND kind = $2 AND src = $3 ORDER BY dst`
	sqlLinksTo  = `SELECT src FROM links WHERE account = $1 AND kind = $2 AND dst = $3 ORDER BY src`
	sqlCount    = `SELECT COUNT(*) FROM records WHERE account = $1 AND kind = $2 AND key >= $3`
	sqlCountEnd = `SELECT COUNT(*) FROM records WHERE account = $1 AND kind = $2 AND key >= $3 AND key < $4`
	// sqlReplace leaves the row alone when its new id belongs to another record, so that the
	// unique index never fails the statement; the row count then tells.
	sqlReplace = `UPDATE records SET id = $4, path = $5, data = $6 WHERE account = $1 AND kind = $2 AND key = $3
		AND ($4::text IS NULL OR NOT EXISTS (SELECT 1 FROM records o WHERE o.kind = $2 AND o.id = $4 AND (o.account <> $1 OR o.key <> $3)))`

	// sqlLockWriters waits for the writers of other nodes to commit; it is the first statement
	// of every write transaction.
	sqlLockWriters = `SELECT version FROM changes WHERE id = 1 FOR UPDATE`
	sqlCountChange = `UPDATE changes SET version = version + 1 WHERE id = 1`
	sqlChanges     = `SELECT version FROM changes WHERE id = 1`
	sqlNotify      = `NOTIFY ` + changesChannel

	sqlSavepoint  = `SAVEPOINT request`
	sqlRollbackTo = `ROLLBACK TO SAVEPOINT request`
	sqlRelease    = `RELEASE SAVEPOINT request`
)

// listSQL is the List query with the optional conditions of q, numbered from $4.
func listSQL(keyBelow, after, path, pathBelow, limit bool) string {
	var b strings.Builder
	b.WriteString(`SELECT key, id, path, data FROM records WHERE account = $1 AND kind = $2 AND key >= $3`)
	n := 3
	cond := func(on bool, text string) {
		if on {
			n++
			b.WriteString(text)
			b.WriteString(strconv.Itoa(n))
		}
	}
	cond(keyBelow, ` AND key < $`)
	cond(after, ` AND key > $`)
	cond(path, ` AND path >= $`)
	cond(pathBelow, ` AND path < $`)
	b.WriteString(` ORDER BY key`)
	cond(limit, ` LIMIT $`)
	return b.String()
}

// prefixEnd returns the smallest string that sorts after every string starting with p, and false
// when there is none. PostgreSQL's TEXT holds valid UTF-8 only, and COLLATE "C" compares its
// bytes, which is code point order: the bound is p with its last code point incremented (past
// the surrogates, which UTF-8 cannot hold), dropping trailing U+10FFFF.
func prefixEnd(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		switch {
		case r == utf8.MaxRune || r == utf8.RuneError && size == 1:
			continue
		case r == 0xD7FF:
			r = 0xE000
		default:
			r++
		}
		return p + string(r), true
	}
	return "", false
}
