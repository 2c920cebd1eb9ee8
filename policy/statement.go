package policy

// Version is the policy language version of a document.
type Version string

// Policy language versions. Policy variables exist only in V20121017.
const (
	V20121017 Version = "2012-10-17"
	V20081017 Version = "2008-10-17"
)

// PrincipalSpec is the content of a Principal or NotPrincipal element.
type PrincipalSpec struct {
	Any           bool     // "*" or {"AWS": "*"}
	AWS           []string // account ids, root, user, role and session ARNs
	Service       []string // service principals such as "ec2.amazonaws.com"
	Federated     []string // identity providers: SAML or OIDC provider ARNs, or OIDC host names
	CanonicalUser []string // S3 canonical user ids
}

// ConditionSpec is one operator/key pair of a Condition element, as written.
type ConditionSpec struct {
	Operator string
	Key      string
	Values   []string
}

// Statement is one statement of a policy as written in the document, in a uniform shape:
// single strings become one-element slices.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *PrincipalSpec // nil when the statement has neither Principal nor NotPrincipal
	NotPrincipal bool           // Principal holds a NotPrincipal element
	Action       []string
	NotAction    bool // Action holds a NotAction element
	Resource     []string
	NotResource  bool // Resource holds a NotResource element
	HasResource  bool // the statement has a Resource or NotResource element
	Condition    []ConditionSpec
	Start, End   Position // the statement's object in the document, End exclusive
}
