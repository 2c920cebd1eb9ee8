package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Tag is a key-value tag on a user, role or policy.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Account is one AWS account hosted by the deployment.
type Account struct {
	ID         string    `json:"id"`
	CreateDate time.Time `json:"created"`
}

// User is an IAM user.
type User struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Path                string    `json:"path"`
	CreateDate          time.Time `json:"created"`
	PermissionsBoundary string    `json:"boundary,omitempty"`
	Tags                []Tag     `json:"tags,omitempty"`
}

// Group is an IAM group.
type Group struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	CreateDate time.Time `json:"created"`
}

// Role is an IAM role.
type Role struct {
	ID                       string    `json:"id"`
	Name                     string    `json:"name"`
	Path                     string    `json:"path"`
	CreateDate               time.Time `json:"created"`
	AssumeRolePolicyDocument string    `json:"trust"`
	Description              string    `json:"description,omitempty"`
	MaxSessionDuration       int32     `json:"maxSession"`
	PermissionsBoundary      string    `json:"boundary,omitempty"`
	Tags                     []Tag     `json:"tags,omitempty"`
	// LastUsedDate and LastUsedRegion record the role's most recent assumption, for GetRole's
	// RoleLastUsed element; nil and "" while it was never used.
	LastUsedDate   *time.Time `json:"lastUsed,omitempty"`
	LastUsedRegion string     `json:"lastUsedRegion,omitempty"`
}

// Policy is a customer-managed policy; its documents are PolicyVersion records.
type Policy struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Path             string    `json:"path"`
	Description      string    `json:"description,omitempty"`
	CreateDate       time.Time `json:"created"`
	UpdateDate       time.Time `json:"updated"`
	DefaultVersionID string    `json:"defaultVersion"`
	NextVersion      int       `json:"nextVersion"` // version numbers are never reused
	Tags             []Tag     `json:"tags,omitempty"`
}

// PolicyVersion is one version of a managed policy's document.
type PolicyVersion struct {
	PolicyID   string    `json:"policy"`
	VersionID  string    `json:"version"`
	Document   string    `json:"document"`
	CreateDate time.Time `json:"created"`
}

// InlinePolicy is a policy embedded in one user, group or role.
type InlinePolicy struct {
	OwnerID  string `json:"owner"`
	Name     string `json:"name"`
	Document string `json:"document"`
}

// AccessKey is a long-term access key of a user or of an account's root user.
type AccessKey struct {
	ID               string     `json:"id"`
	OwnerID          string     `json:"owner"`  // user id, or the account id for the root user
	Status           string     `json:"status"` // Active or Inactive
	SecretCiphertext []byte     `json:"secret"` // sealed under the master key, bound to ID
	CreateDate       time.Time  `json:"created"`
	LastUsedDate     *time.Time `json:"lastUsed,omitempty"`
	LastUsedService  string     `json:"lastUsedService,omitempty"`
	LastUsedRegion   string     `json:"lastUsedRegion,omitempty"`
}

// Encode is the JSON body of an entity record.
func Encode(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		// Entities are plain structs of strings, numbers and times: marshalling cannot fail.
		panic(fmt.Sprintf("store: encode %T: %v", v, err))
	}
	return data
}

// Decode reads an entity record's body into v.
func Decode(rec Record, v any) error {
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return fmt.Errorf("store: decode %s %q: %w", rec.Kind, rec.Key, err)
	}
	return nil
}

// Load gets a record and decodes it into a new T.
func Load[T any](ctx context.Context, tx Tx, kind Kind, account, key string) (*T, error) {
	rec, err := tx.Get(ctx, kind, account, key)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := Decode(rec, v); err != nil {
		return nil, err
	}
	return v, nil
}

// LoadByID gets a record by its id and decodes it into a new T.
func LoadByID[T any](ctx context.Context, tx Tx, kind Kind, id string) (*T, Record, error) {
	rec, err := tx.GetByID(ctx, kind, id)
	if err != nil {
		return nil, rec, err
	}
	v := new(T)
	if err := Decode(rec, v); err != nil {
		return nil, rec, err
	}
	return v, rec, nil
}
