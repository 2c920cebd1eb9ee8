// Package storetest is the conformance suite of store.Store: every backend runs Run over a real
// database of its kind, so that every backend behaves the same to the code above it.
//
// The cases cover the whole interface: insert, get, replace and delete; uniqueness of keys and
// of ids across accounts; id-less records; List with Prefix, PathPrefix, After and Limit in
// byte order (checked against a direct computation as well as by hand); Count; links both ways
// with their ordering; rollback when fn fails; isolation of failing Updates among many
// concurrent ones (a group-committing backend batches them); read-your-writes inside an
// Update; read-only and snapshot Views; concurrent Views; cancellation; and error texts that
// name the record but never its data.
package storetest
