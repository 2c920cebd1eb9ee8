// Package store is Gatehouse's durable state: a small transactional record store that every
// backend (SQLite now, PostgreSQL later) implements, plus typed helpers for the IAM entities
// kept in it.
//
// The backend interface is deliberately generic (records and links) so that a backend is a few
// hundred lines of portable SQL and one conformance suite (storetest) proves every backend
// behaves the same. Entity semantics live above it, in the typed helpers and the IAM handlers.
package store

import (
	"context"
	"errors"
)

// Sentinel errors returned (wrapped) by every backend.
var (
	// ErrNotFound means no record or link has the given key.
	ErrNotFound = errors.New("store: not found")
	// ErrExists means a record with the same key or id, or the same link, already exists.
	ErrExists = errors.New("store: already exists")
	// ErrUnavailable means the database cannot be reached (or is shutting down or starting):
	// the same call may succeed when it is back. The API answers it with a retryable error.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Kind names a collection of records.
type Kind string

// The kinds of record Gatehouse keeps.
const (
	KindAccount       Kind = "account"        // Account "", Key = account id
	KindUser          Kind = "user"           // Key = lower-case user name, ID = AIDA...
	KindGroup         Kind = "group"          // Key = lower-case group name, ID = AGPA...
	KindRole          Kind = "role"           // Key = lower-case role name, ID = AROA...
	KindPolicy        Kind = "policy"         // Key = lower-case policy name, ID = ANPA...
	KindPolicyVersion Kind = "policy-version" // Key = policy id + "/" + version id
	KindInlinePolicy  Kind = "inline-policy"  // Key = owner id + "/" + lower-case policy name
	KindAccessKey     Kind = "access-key"     // Key = owner id + "/" + access key id, ID = access key id
	// KindOIDCProvider: Key = lower-case provider URL without https:// (host and path).
	KindOIDCProvider Kind = "oidc-provider"
	// KindSAMLProvider: Key = lower-case provider name, ID = its SAMLProviderUUID.
	KindSAMLProvider Kind = "saml-provider"
	// KindMFADevice: a virtual MFA device; Key = lower-case path + name (the serial number's
	// resource after "mfa"), ID = the serial number.
	KindMFADevice Kind = "mfa-device"
	// KindMFAAssignment: one record per device enabled for a user or the root user; Key =
	// owner id (user id, or the account id for root) + "/" + the device's Key, so a user's
	// devices are counted and listed by prefix.
	KindMFAAssignment Kind = "mfa-assignment"
	// KindMigration: Account "", Key = the name of a data migration that has run.
	KindMigration Kind = "migration"
)

// Record is one stored entity. Data is an opaque JSON body owned by the typed helpers.
type Record struct {
	Account string // 12-digit account id; "" for kinds that live outside accounts
	Kind    Kind
	Key     string // unique within (Account, Kind); ordering key for List
	ID      string // unique within Kind across all accounts when not empty
	Path    string // IAM path, for PathPrefix filters; "" when the kind has none
	Data    []byte
}

// LinkKind names a relation between records.
type LinkKind string

// The relations Gatehouse keeps.
const (
	LinkMember   LinkKind = "member"   // From = group id, To = user id
	LinkAttached LinkKind = "attached" // From = principal ref (see PrincipalRef), To = policy ARN
)

// Link is a directed relation inside one account.
type Link struct {
	Account string
	Kind    LinkKind
	From    string
	To      string
}

// Query selects records of one kind in one account for List.
type Query struct {
	Prefix     string // only keys that start with Prefix
	PathPrefix string // only records whose Path starts with PathPrefix
	After      string // only keys strictly greater than After (pagination)
	Limit      int    // at most Limit records; 0 means no limit
}

// Tx is a transaction. Records are returned in Key order (byte-wise).
type Tx interface {
	Get(ctx context.Context, kind Kind, account, key string) (Record, error)
	GetByID(ctx context.Context, kind Kind, id string) (Record, error)
	// Insert adds rec; ErrExists when (Account, Kind, Key) or (Kind, ID) is taken.
	Insert(ctx context.Context, rec Record) error
	// Replace overwrites the record with rec's (Account, Kind, Key); ErrNotFound when missing.
	Replace(ctx context.Context, rec Record) error
	// Delete removes a record; ErrNotFound when missing.
	Delete(ctx context.Context, kind Kind, account, key string) error
	List(ctx context.Context, kind Kind, account string, q Query) ([]Record, error)
	Count(ctx context.Context, kind Kind, account, prefix string) (int, error)

	// AddLink adds l; ErrExists when it is already there.
	AddLink(ctx context.Context, l Link) error
	// RemoveLink removes l; ErrNotFound when it is not there.
	RemoveLink(ctx context.Context, l Link) error
	// LinksFrom and LinksTo return the links of kind with the given end, ordered by the other end.
	LinksFrom(ctx context.Context, account string, kind LinkKind, from string) ([]Link, error)
	LinksTo(ctx context.Context, account string, kind LinkKind, to string) ([]Link, error)
}

// Dumper is a Store that lists everything it holds in one snapshot, for export: every record
// and every link, each kind in key order.
type Dumper interface {
	Dump(ctx context.Context, record func(Record) error, link func(Link) error) error
}

// ChangeCounter is a Store that counts the write transactions committed to its database, by any
// process: a node that polls it learns within one poll that another node wrote, and drops what
// it caches.
type ChangeCounter interface {
	Changes(ctx context.Context) (uint64, error)
}

// Store is a durable backend. Update commits only when fn returns nil, and a committed Update is
// durable (it survives kill -9 and power loss) before Update returns. View is read-only.
type Store interface {
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	View(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	Close() error
}
