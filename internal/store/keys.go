package store

import "strings"

// The keys and shapes below are how the IAM handlers and enforcement both read entities; they
// live here, below both, so enforcement need not import the handlers.

// NameKey is the store key of a named entity: IAM names are unique regardless of case.
func NameKey(name string) string { return strings.ToLower(name) }

// ChildKey is the store key of a record owned by another (inline policies, access keys,
// versions).
func ChildKey(ownerID, name string) string { return ownerID + "/" + name }

// PrincipalRef is the From end of an attached-policy link: the entity's kind and id.
func PrincipalRef(kind Kind, id string) string { return string(kind) + ":" + id }

// Meta is what authorization reads of a stored entity: the JSON fields that every entity
// struct of the store names alike.
type Meta struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	Tags     []Tag  `json:"tags"`
	Boundary string `json:"boundary"`
}

// DecodeMeta reads rec's Meta; an entity without a path of its own has the record's, else "/".
func DecodeMeta(rec Record, m *Meta) error {
	if err := Decode(rec, m); err != nil {
		return err
	}
	if m.Path == "" {
		m.Path = rec.Path
	}
	if m.Path == "" {
		m.Path = "/"
	}
	return nil
}
