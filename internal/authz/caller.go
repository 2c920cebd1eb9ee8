package authz

import (
	"fmt"
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// ParseCaller describes the caller named by s, as `gatehouse policy eval` and the simulator
// take it: an account root ARN (arn:aws:iam::ACCOUNT:root), an IAM user ARN, an assumed-role
// session ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), a federated-user ARN
// (arn:aws:sts::ACCOUNT:federated-user/NAME), or a service principal name such as
// "s3.amazonaws.com". The empty string is an anonymous caller, for which it returns nil.
//
// A session's role ARN is taken as arn:PARTITION:iam::ACCOUNT:role/ROLE: a session ARN does
// not carry the role's path, so a resource policy naming a role with a path matches the
// session only when the caller sets RoleARN itself.
func ParseCaller(s string) (*Caller, error) {
	if s == "" {
		return nil, nil
	}
	if !strings.HasPrefix(s, "arn:") {
		if strings.Contains(s, ".") && !strings.ContainsAny(s, " :/*") {
			return &Caller{Type: Service, Principal: policy.Principal{Service: s}}, nil
		}
		return nil, fmt.Errorf("caller %q: not an ARN or a service principal", s)
	}
	a, err := arn.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("caller %q: %w", s, err)
	}
	if !policy.IsAccountID(a.Account) {
		return nil, fmt.Errorf("caller %q: the account must be 12 digits", s)
	}
	c := &Caller{Principal: policy.Principal{Account: a.Account, ARN: s}}
	kind, rest, _ := strings.Cut(a.Resource, "/")
	switch {
	case a.Service == "iam" && a.Resource == "root":
		c.Type = Root
	case a.Service == "iam" && kind == "user" && rest != "":
		c.Type = User
	case a.Service == "sts" && kind == "assumed-role":
		role, session, ok := strings.Cut(rest, "/")
		if !ok || role == "" || session == "" {
			return nil, fmt.Errorf("caller %q: an assumed-role ARN ends in assumed-role/ROLE/SESSION", s)
		}
		c.Type = AssumedRole
		c.RoleARN = "arn:" + a.Partition + ":iam::" + a.Account + ":role/" + role
	case a.Service == "sts" && kind == "federated-user" && rest != "":
		c.Type = FederatedUser
	default:
		return nil, fmt.Errorf("caller %q: not the ARN of an account root, IAM user, role session or federated user", s)
	}
	return c, nil
}
