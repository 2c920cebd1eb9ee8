package authz

import "context"

// ResourcePolicies finds the resource-based policy of a resource and the account that owns
// it. Gatehouse's own resources answer from the store (a role's trust policy for
// sts:AssumeRole*); another service that asks Gatehouse to authorize requests on its
// resources implements it for its own (bucket policies, queue policies, key policies), and
// the caller puts the answer in Request.ResourcePolicy and Request.ResourceAccount.
type ResourcePolicies interface {
	// ResourcePolicy returns the policy attached to the resource with the given ARN (nil when
	// it has none) and its owner's 12-digit account id.
	ResourcePolicy(ctx context.Context, resourceARN string) (p *Policies, ownerAccount string, err error)
}
