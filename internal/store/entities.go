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
	// PasswordLastUsed is when the user last signed in with its console password.
	PasswordLastUsed *time.Time `json:"passwordLastUsed,omitempty"`
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

// OIDCProvider is an IAM OpenID Connect identity provider.
type OIDCProvider struct {
	// URL is the issuer URL without its https:// scheme (host and path), as its ARN shows it.
	URL         string    `json:"url"`
	ClientIDs   []string  `json:"clientIds,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"` // lower-case hex SHA-1 fingerprints
	CreateDate  time.Time `json:"created"`
	Tags        []Tag     `json:"tags,omitempty"`
}

// SAMLProvider is an IAM SAML 2.0 identity provider.
type SAMLProvider struct {
	Name       string    `json:"name"`
	UUID       string    `json:"uuid"`     // SAMLProviderUUID
	Metadata   string    `json:"metadata"` // the metadata document as given
	EntityID   string    `json:"entityId"` // the issuer the metadata names
	CreateDate time.Time `json:"created"`
	ValidUntil time.Time `json:"validUntil"`
	// EncryptionMode is AssertionEncryptionMode: "", "Allowed" or "Required".
	EncryptionMode string           `json:"encryption,omitempty"`
	PrivateKeys    []SAMLPrivateKey `json:"privateKeys,omitempty"`
	Tags           []Tag            `json:"tags,omitempty"`
}

// SAMLPrivateKey is a private key that decrypts a SAML provider's encrypted assertions.
type SAMLPrivateKey struct {
	ID         string    `json:"id"`
	Ciphertext []byte    `json:"sealed"` // PKCS#8 DER sealed under the master key, bound to ID
	Added      time.Time `json:"added"`
}

// MFADevice is a virtual MFA device, assigned to a user (or the root user) or not.
type MFADevice struct {
	SerialNumber   string    `json:"serial"`
	Path           string    `json:"path"`
	Name           string    `json:"name"`
	SeedCiphertext []byte    `json:"seed"` // the TOTP seed sealed under the master key, bound to SerialNumber
	CreateDate     time.Time `json:"created"`
	// OwnerID is the user id, or the account id for the root user; "" while unassigned.
	OwnerID    string     `json:"owner,omitempty"`
	EnableDate *time.Time `json:"enabled,omitempty"`
	// LastStep is the last TOTP time step accepted from the device; a code of that step or an
	// earlier one is refused, so a code works once.
	LastStep int64 `json:"lastStep,omitempty"`
	// Drift is how many time steps the device's clock runs ahead (negative: behind), as the
	// last enable or resync measured it.
	Drift int64 `json:"drift,omitempty"`
	Tags  []Tag `json:"tags,omitempty"`
}

// MFAAssignment records that a device is enabled for its owner; see KindMFAAssignment.
type MFAAssignment struct {
	DeviceKey string `json:"device"`
}
