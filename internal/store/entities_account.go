package store

import "time"

// The entities of an account's people and settings: console passwords, the password policy,
// the account alias, instance profiles, certificates, SSH keys and service-specific
// credentials. Each kind's owner (the IAM handlers that write it) may add fields; readers
// (the credential report, GetAccountSummary, GetAccountAuthorizationDetails) use these.

// Kinds of the account's people and settings.
const (
	// KindLoginProfile: a user's console password; Key = user id, or the account id for the
	// root user's (iam.SetRootPassword).
	KindLoginProfile Kind = "login-profile"
	// KindPasswordPolicy: the account's password policy; Key = "policy" (one per account).
	KindPasswordPolicy Kind = "password-policy"
	// KindPasswordHistory: a user's previous password hashes, for PasswordReusePrevention;
	// Key = user id.
	KindPasswordHistory Kind = "password-history"
	// KindAccountAlias: Account "" (aliases are unique across the deployment), Key = the alias,
	// ID = the owning account's id (so an account has at most one).
	KindAccountAlias Kind = "account-alias"
	// KindSTSPreferences: the account's SetSecurityTokenServicePreferences; Key = "sts".
	KindSTSPreferences Kind = "sts-preferences"
	// KindInstanceProfile: Key = lower-case name, ID = AIPA...
	KindInstanceProfile Kind = "instance-profile"
	// KindServerCertificate: Key = lower-case name, ID = ASCA...
	KindServerCertificate Kind = "server-certificate"
	// KindSigningCertificate: Key = owner id (user id, or the account id for root) + "/" +
	// certificate id, ID = account id + "/" + certificate id (a certificate's id is its
	// fingerprint, so the same certificate may be in several accounts, once in each).
	KindSigningCertificate Kind = "signing-certificate"
	// KindSSHPublicKey: Key = user id + "/" + key id, ID = APKA...
	KindSSHPublicKey Kind = "ssh-public-key"
	// KindServiceCredential: a service-specific credential; Key = user id + "/" + id, ID =
	// ACCA...
	KindServiceCredential Kind = "service-credential"
	// KindCredentialReport: the account's latest credential report; Key = "report".
	KindCredentialReport Kind = "credential-report"
)

// LoginProfile is a user's console password, hashed (never stored in clear).
type LoginProfile struct {
	UserID                string    `json:"user"`
	Hash                  string    `json:"hash"` // argon2id, in the PHC string format
	CreateDate            time.Time `json:"created"`
	PasswordResetRequired bool      `json:"resetRequired,omitempty"`
	// ChangedAt is when the password was last set, for MaxPasswordAge and the credential
	// report's password_last_changed.
	ChangedAt time.Time `json:"changed"`
}

// PasswordHistory is what PasswordReusePrevention compares a new password with: the hashes of
// a user's passwords, newest (the current one) first, at most 24 (the policy's maximum). All
// are derived with one salt of the user's, so a new password is hashed once to compare it with
// every one of them. The record outlives the login profile, so deleting and re-creating a
// profile does not clear it; it goes with the user.
type PasswordHistory struct {
	Salt   []byte   `json:"salt"`
	Hashes []string `json:"hashes"` // argon2id PHC strings
}

// PasswordPolicy is an account's password policy, with AWS's fields.
type PasswordPolicy struct {
	MinimumPasswordLength      int32 `json:"minLength"`
	RequireSymbols             bool  `json:"symbols,omitempty"`
	RequireNumbers             bool  `json:"numbers,omitempty"`
	RequireUppercaseCharacters bool  `json:"upper,omitempty"`
	RequireLowercaseCharacters bool  `json:"lower,omitempty"`
	AllowUsersToChangePassword bool  `json:"usersChange,omitempty"`
	MaxPasswordAge             int32 `json:"maxAge,omitempty"` // days; 0: passwords do not expire
	PasswordReusePrevention    int32 `json:"reuse,omitempty"`  // how many previous passwords
	HardExpiry                 bool  `json:"hardExpiry,omitempty"`
}

// AccountAlias is an account's alias.
type AccountAlias struct {
	Alias   string `json:"alias"`
	Account string `json:"account"`
}

// STSPreferences are an account's STS settings: GlobalEndpointTokenVersion is "v1Token" or
// "v2Token".
type STSPreferences struct {
	GlobalEndpointTokenVersion string `json:"globalEndpointTokenVersion"`
}

// InstanceProfile is an instance profile; it holds at most one role, by id.
type InstanceProfile struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	CreateDate time.Time `json:"created"`
	RoleIDs    []string  `json:"roles,omitempty"`
	Tags       []Tag     `json:"tags,omitempty"`
}

// ServerCertificate is an uploaded server certificate; the private key is sealed.
type ServerCertificate struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Path             string    `json:"path"`
	UploadDate       time.Time `json:"uploaded"`
	Expiration       time.Time `json:"expires"`
	CertificateBody  string    `json:"body"`
	CertificateChain string    `json:"chain,omitempty"`
	SealedKey        []byte    `json:"key"`
	Tags             []Tag     `json:"tags,omitempty"`
}

// SigningCertificate is an X.509 signing certificate of a user or the root user.
type SigningCertificate struct {
	ID              string    `json:"id"`
	OwnerID         string    `json:"owner"`
	CertificateBody string    `json:"body"`
	Status          string    `json:"status"` // Active or Inactive
	UploadDate      time.Time `json:"uploaded"`
}

// SSHPublicKey is a user's SSH public key.
type SSHPublicKey struct {
	ID          string    `json:"id"`
	UserID      string    `json:"user"`
	Body        string    `json:"body"`
	Fingerprint string    `json:"fingerprint"`
	Status      string    `json:"status"` // Active or Inactive
	UploadDate  time.Time `json:"uploaded"`
}

// ServiceCredential is a service-specific credential of a user; the password is sealed.
type ServiceCredential struct {
	ID          string `json:"id"`
	UserID      string `json:"user"`
	ServiceName string `json:"service"`
	// ServiceUser is the ServiceUserName (USER-at-ACCOUNT), or for a long-term API key its
	// ServiceCredentialAlias.
	ServiceUser string `json:"serviceUser"`
	// SealedPassword is the password, or an API key's secret, sealed bound to ID.
	SealedPassword []byte    `json:"password"`
	Status         string    `json:"status"` // Active or Inactive
	CreateDate     time.Time `json:"created"`
	// Expires is when an API key made with CredentialAgeDays expires; nil for no expiry.
	Expires *time.Time `json:"expires,omitempty"`
}
