package sqlite

import "strings"

// The SQL of the store. It is portable: PostgreSQL runs the same text with $n placeholders.

// stmtID names a prepared statement of a connection.
type stmtID int

// The statements every connection prepares once, when it is opened.
const (
	stmtGet stmtID = iota
	stmtGetByID
	stmtInsert
	stmtReplace
	stmtDelete
	stmtCount
	stmtCountBelow
	stmtAddLink
	stmtRemoveLink
	stmtLinksFrom
	stmtLinksTo
	stmtBeginRead
	stmtBeginWrite
	stmtSavepoint
	stmtRollbackTo
	stmtRelease
	stmtCommit
	stmtRollback
	numStmts
)

// statements is the SQL of each stmtID.
var statements = [numStmts]string{
	stmtGet:        `SELECT id, path, data FROM records WHERE account = ? AND kind = ? AND key = ?`,
	stmtGetByID:    `SELECT account, key, path, data FROM records WHERE kind = ? AND id = ?`,
	stmtInsert:     `INSERT INTO records (account, kind, key, id, path, data) VALUES (?, ?, ?, ?, ?, ?)`,
	stmtReplace:    `UPDATE records SET id = ?, path = ?, data = ? WHERE account = ? AND kind = ? AND key = ?`,
	stmtDelete:     `DELETE FROM records WHERE account = ? AND kind = ? AND key = ?`,
	stmtCount:      `SELECT COUNT(*) FROM records WHERE account = ? AND kind = ? AND key >= ?`,
	stmtCountBelow: `SELECT COUNT(*) FROM records WHERE account = ? AND kind = ? AND key >= ? AND key < ?`,
	stmtAddLink:    `INSERT INTO links (account, kind, src, dst) VALUES (?, ?, ?, ?)`,
	stmtRemoveLink: `DELETE FROM links WHERE account = ? AND kind = ? AND src = ? AND dst = ?`,
	stmtLinksFrom:  `SELECT dst FROM links WHERE account = ? AND kind = ? AND src = ? ORDER BY dst`,
	stmtLinksTo:    `SELECT src FROM links WHERE account = ? AND kind = ? AND dst = ? ORDER BY src`,
	stmtBeginRead:  beginRead,
	stmtBeginWrite: beginWrite,
	stmtSavepoint:  `SAVEPOINT request`,
	stmtRollbackTo: `ROLLBACK TO SAVEPOINT request`,
	stmtRelease:    `RELEASE SAVEPOINT request`,
	stmtCommit:     `COMMIT`,
	stmtRollback:   `ROLLBACK`,
}

// listShape says which optional conditions a List query has; each shape is one prepared
// statement, so that every condition is a plain range the planner can use on the primary key.
type listShape uint8

// The optional parts of a List query, in the order of their parameters.
const (
	listKeyBelow  listShape = 1 << iota // key < end of Prefix
	listAfter                           // key > After
	listPath                            // path >= PathPrefix
	listPathBelow                       // path < end of PathPrefix
	listLimit                           // LIMIT
	numListShapes = 1 << iota
)

// listSQL is the query of a List shape.
func listSQL(shape listShape) string {
	var b strings.Builder
	b.WriteString(`SELECT key, id, path, data FROM records WHERE account = ? AND kind = ? AND key >= ?`)
	if shape&listKeyBelow != 0 {
		b.WriteString(` AND key < ?`)
	}
	if shape&listAfter != 0 {
		b.WriteString(` AND key > ?`)
	}
	if shape&listPath != 0 {
		b.WriteString(` AND path >= ?`)
	}
	if shape&listPathBelow != 0 {
		b.WriteString(` AND path < ?`)
	}
	b.WriteString(` ORDER BY key`)
	if shape&listLimit != 0 {
		b.WriteString(` LIMIT ?`)
	}
	return b.String()
}
