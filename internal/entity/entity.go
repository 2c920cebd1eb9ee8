// Package entity names and finds the IAM entities that both the IAM handlers (internal/iam)
// and enforcement (internal/enforce) read: the ARNs of users, groups, roles and policies, and
// the managed policy, customer- or AWS-managed, that a policy ARN names. It sits below both so
// that enforcement need not import the handlers.
package entity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/iam/awsmanaged"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ARN builds an IAM ARN such as arn:aws:iam::123456789012:user/division/alice.
func ARN(account, resource, path, name string) string {
	return "arn:aws:iam::" + account + ":" + resource + path + name
}

// UserARN is the ARN of an IAM user.
func UserARN(account string, u *store.User) string { return ARN(account, "user", u.Path, u.Name) }

// GroupARN is the ARN of an IAM group.
func GroupARN(account string, g *store.Group) string { return ARN(account, "group", g.Path, g.Name) }

// RoleARN is the ARN of an IAM role.
func RoleARN(account string, r *store.Role) string { return ARN(account, "role", r.Path, r.Name) }

// PolicyARN is the ARN of a customer-managed policy.
func PolicyARN(account string, p *store.Policy) string {
	return ARN(account, "policy", p.Path, p.Name)
}

// ManagedPolicy is a managed policy an ARN names: customer-managed (Local, stored in the
// account) or AWS-managed (AWS, from the embedded catalogue, read-only).
type ManagedPolicy struct {
	ARN   string
	Local *store.Policy
	AWS   *awsmanaged.Policy
}

// Name is the policy's name.
func (m *ManagedPolicy) Name() string {
	if m.Local != nil {
		return m.Local.Name
	}
	return m.AWS.Name
}

// Path is the policy's path.
func (m *ManagedPolicy) Path() string {
	if m.Local != nil {
		return m.Local.Path
	}
	return m.AWS.Path
}

// DefaultVersion is the id of the policy's default version.
func (m *ManagedPolicy) DefaultVersion() string {
	if m.Local != nil {
		return m.Local.DefaultVersionID
	}
	return m.AWS.DefaultVersionID
}

// AWSPolicies is the catalogue of AWS-managed policies, parsed on first use.
func AWSPolicies() (*awsmanaged.Set, error) {
	set, err := awsmanaged.Default()
	if err != nil {
		return nil, fmt.Errorf("iam: AWS-managed policies: %w", err)
	}
	return set, nil
}

// CheckARN answers InvalidInput for a policy ARN parameter that is not an ARN at all, as IAM
// does ("ARN x is not valid.").
func CheckARN(s string) error {
	if !strings.HasPrefix(s, "arn:") {
		return awsquery.InvalidInput("ARN %s is not valid.", s)
	}
	return nil
}

// ParsePolicyARN splits arn:aws:iam::ACCOUNT:policy/PATH/NAME; account is "aws" for
// AWS-managed policies. ok is false for anything else.
func ParsePolicyARN(s string) (account, path, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return "", "", "", false
	}
	account, resource, ok := strings.Cut(rest, ":")
	if !ok {
		return "", "", "", false
	}
	rest, ok = strings.CutPrefix(resource, "policy")
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", "", "", false
	}
	slash := strings.LastIndex(rest, "/")
	path, name = rest[:slash+1], rest[slash+1:]
	if name == "" || account == "" {
		return "", "", "", false
	}
	return account, path, name, true
}

// FindPolicy looks up the managed policy policyARN names as seen from account: one of the
// account's own policies or an AWS-managed one. It returns nil without error when there is
// none, and InvalidInput when policyARN is not an ARN.
func FindPolicy(ctx context.Context, tx store.Tx, account, policyARN string) (*ManagedPolicy, error) {
	if err := CheckARN(policyARN); err != nil {
		return nil, err
	}
	owner, path, name, ok := ParsePolicyARN(policyARN)
	switch {
	case !ok:
		return nil, nil
	case owner == "aws":
		set, err := AWSPolicies()
		if err != nil {
			return nil, err
		}
		if p := set.Lookup(policyARN); p != nil {
			return &ManagedPolicy{ARN: policyARN, AWS: p}, nil
		}
		return nil, nil
	case owner == account:
		p, err := store.Load[store.Policy](ctx, tx, store.KindPolicy, account, store.NameKey(name))
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		// Names are unique regardless of case, but an ARN must spell path and name exactly.
		if p.Path != path || p.Name != name {
			return nil, nil
		}
		return &ManagedPolicy{ARN: policyARN, Local: p}, nil
	}
	return nil, nil
}
