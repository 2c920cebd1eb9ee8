package enforce

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// ResourcePolicy returns the stored resource-based policy of the resource arn of a protected
// service, owned by account, compiled; nil when it has none. It is cached like the callers'
// grants, and dropped with them when a write commits.
func (e *Enforcer) ResourcePolicy(ctx context.Context, account, arn string) (*authz.Policies, error) {
	key := account + "\x00" + arn
	now, epoch := e.now(), e.creds.principals.Load()
	if p, ok := e.resourcePolicies.Get(key, epoch, now); ok {
		return p, nil
	}
	var doc *store.ResourcePolicy
	err := e.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		doc, err = store.Load[store.ResourcePolicy](ctx, tx, store.KindResourcePolicy, account, arn)
		return err
	})
	var compiled *authz.Policies
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("load resource policy: %w", err)
	default:
		p, err := e.docs.compile(doc.Document, policy.Resource)
		if err != nil {
			return nil, err
		}
		compiled = authz.NewPolicies([]*policy.Policy{p}, []authz.Source{{Type: authz.ResourcePolicy, ID: arn}})
	}
	e.resourcePolicies.Put(key, compiled, epoch, now)
	return compiled, nil
}
