package sqlite

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file holds everything that is specific to SQLite. The queries in queries.go are portable
// SQL; a PostgreSQL backend is those queries with its own version of the few definitions here.

// driverName is the database/sql driver registered by modernc.org/sqlite.
const driverName = "sqlite"

// busyTimeoutMillis is how long a connection waits for a lock held by another connection or
// process before it gives up with SQLITE_BUSY. Writers hold the lock for one batch (a few
// milliseconds), so five seconds only runs out when something is badly stuck.
const busyTimeoutMillis = 5000

// Transaction control statements.
const (
	// beginWrite takes the write lock at once: writers in several processes then queue on
	// busy_timeout, instead of a read transaction failing to upgrade with SQLITE_BUSY.
	beginWrite = "BEGIN IMMEDIATE"
	// beginRead starts a deferred transaction; its snapshot is taken by the first read.
	beginRead = "BEGIN"
)

// dsn is the modernc.org/sqlite data source name for the database file at path (absolute).
//
// Every connection gets busy_timeout and synchronous=FULL (with WAL, FULL syncs the WAL at each
// commit, so an acknowledged commit survives power loss; checkpoints run on any connection, so
// readers need it too). Only the writer sets journal_mode, which is persistent in the file;
// readers are query_only, so a View cannot write even through a bug in this package.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(busyTimeoutMillis))
	q.Set("_synchronous", "FULL")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_journal_mode", "WAL")
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// escapePath escapes the characters that would end or change the path part of an SQLite URI
// filename; SQLite decodes %HH escapes in it.
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// isUniqueViolation reports whether err is a failed UNIQUE or PRIMARY KEY constraint.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// isConstraintViolation reports whether err is any constraint failure. SQLite undoes only the
// failing statement for these, so the transaction stays usable.
func isConstraintViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// prefixEnd returns the smallest string greater than every string that starts with p, and false
// when there is none (p is empty or all 0xff bytes). List and Count use it as an exclusive upper
// bound, so that a prefix is a range over the primary key instead of a LIKE pattern.
//
// The bound is byte-wise, exact for any key because SQLite's BINARY collation is memcmp. A
// PostgreSQL backend (TEXT is valid UTF-8 only, compared with COLLATE "C") would increment the
// last rune instead.
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for len(b) > 0 {
		last := len(b) - 1
		if b[last] == 0xff {
			b = b[:last]
			continue
		}
		b[last]++
		return string(b), true
	}
	return "", false
}
