package policy

import (
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
)

// Principal describes the caller of a request, for the Principal and NotPrincipal elements of
// resource-based and trust policies. Set the fields that apply; a nil *Principal in a Request is
// an anonymous caller.
type Principal struct {
	// Account is the 12-digit account of an IAM principal (user, role session, root).
	Account string
	// ARN is the caller's ARN: arn:aws:iam::ACCOUNT:root, an IAM user ARN, an assumed-role
	// session ARN (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION) or a federated-user ARN.
	ARN string
	// RoleARN is, for a role session, the ARN of the role (with its path). A policy that names
	// the role matches every session of it.
	RoleARN string
	// ID is an IAM user's unique id (AIDA...), and RoleID a role session's role's (AROA...).
	// IAM stores the users and roles a resource-based policy names by these ids, so that a
	// principal deleted and re-created with the same name is not matched (see
	// RewritePrincipals); ARNs still match as written.
	ID, RoleID string
	// Service is a service principal such as "ec2.amazonaws.com".
	Service string
	// Federated is the identity provider a web identity or SAML caller comes from: a provider
	// ARN or a host name such as "accounts.google.com".
	Federated string
	// CanonicalUser is an S3 canonical user id.
	CanonicalUser string
}

// PrincipalMatch says how a statement's Principal element matched the caller; a resource
// policy that names the caller itself grants access on its own, one that names the caller's
// account needs the account's identity policies to agree.
type PrincipalMatch uint8

// Principal matches.
const (
	PrincipalNone      PrincipalMatch = iota // the statement has no Principal element (identity policies)
	PrincipalAny                             // "*" or {"AWS": "*"}
	PrincipalAccount                         // an account id or arn:...:root naming the caller's account
	PrincipalExact                           // the caller's ARN, its role's ARN, or its service, provider or canonical id
	PrincipalNotListed                       // a NotPrincipal element that does not list the caller
)

func (m PrincipalMatch) String() string {
	switch m {
	case PrincipalAny:
		return "Any"
	case PrincipalAccount:
		return "Account"
	case PrincipalExact:
		return "Exact"
	case PrincipalNotListed:
		return "NotListed"
	}
	return "None"
}

// compiledPrincipal is a Principal or NotPrincipal element ready for matching.
type compiledPrincipal struct {
	not      bool
	any      bool
	accounts []string // account ids, from ids and root ARNs
	arns     []string
	ids      []string // unique ids of users and roles (AIDA..., AROA...)
	services []string
	feds     []string
	canon    []string
}

func compilePrincipal(s *PrincipalSpec, not bool) *compiledPrincipal {
	c := &compiledPrincipal{not: not, any: s.Any}
	for _, v := range s.AWS {
		switch {
		case v == "*":
		case IsAccountID(v):
			c.accounts = append(c.accounts, v)
		case IsPrincipalID(v):
			c.ids = append(c.ids, v)
		default:
			if a, err := arn.Parse(v); err == nil && a.Service == "iam" && a.Resource == "root" {
				c.accounts = append(c.accounts, a.Account)
			} else {
				c.arns = append(c.arns, v)
			}
		}
	}
	c.services = s.Service
	c.feds = s.Federated
	c.canon = s.CanonicalUser
	return c
}

// match reports how the element matches p, and whether it does.
func (c *compiledPrincipal) match(p *Principal) (PrincipalMatch, bool) {
	m := c.listed(p)
	if c.not {
		if m == PrincipalNone {
			return PrincipalNotListed, true
		}
		return PrincipalNone, false
	}
	return m, m != PrincipalNone
}

func (c *compiledPrincipal) listed(p *Principal) PrincipalMatch {
	if c.any {
		return PrincipalAny
	}
	if p == nil {
		return PrincipalNone
	}
	if p.ARN != "" || p.RoleARN != "" {
		for _, a := range c.arns {
			if a == p.ARN || a == p.RoleARN {
				return PrincipalExact
			}
		}
	}
	if p.ID != "" || p.RoleID != "" {
		for _, id := range c.ids {
			if id == p.ID || id == p.RoleID {
				return PrincipalExact
			}
		}
	}
	if p.Service != "" {
		for _, s := range c.services {
			if strings.EqualFold(s, p.Service) {
				return PrincipalExact
			}
		}
	}
	if p.Federated != "" {
		for _, f := range c.feds {
			if strings.EqualFold(f, p.Federated) {
				return PrincipalExact
			}
		}
	}
	if p.CanonicalUser != "" {
		for _, u := range c.canon {
			if u == p.CanonicalUser {
				return PrincipalExact
			}
		}
	}
	if p.Account != "" && p.Service == "" {
		for _, a := range c.accounts {
			if a == p.Account {
				// Naming the root user names the account, but the root user itself is
				// matched exactly.
				if p.ARN != "" && strings.HasSuffix(p.ARN, ":root") {
					return PrincipalExact
				}
				return PrincipalAccount
			}
		}
	}
	return PrincipalNone
}

// IsPrincipalID reports whether s has the form of the unique id of an IAM user (AIDA...) or
// role (AROA...): the prefix and 17 upper-case letters and digits, 21 characters in all. Those
// are the ids a Principal element may name instead of an ARN.
func IsPrincipalID(s string) bool {
	if len(s) != 21 || !(strings.HasPrefix(s, "AIDA") || strings.HasPrefix(s, "AROA")) {
		return false
	}
	for i := 4; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// IsAccountID reports whether s is an AWS account id: 12 decimal digits.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
