package iam

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/iam/awsmanaged"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// ListPolicies pages through one list merged from the account's policies and the AWS-managed
// catalogue, ordered by lower-case name (the account's policy first on a tie). An entry's sort
// key is its lower-case name followed by one of these tags; the marker carries the key of the
// last entry returned.
const (
	localTag = "\x000"
	awsTag   = "\x001"
)

// listedPolicy is an entry of ListPolicies with its usage counts.
type listedPolicy struct {
	key                  string
	m                    entity.ManagedPolicy
	attached, boundaries int
}

// localPolicies reads the account's policies in key order, a batch at a time, so that a
// filtered page does not load the whole account.
type localPolicies struct {
	tx      store.Tx
	account string
	q       store.Query
	buf     []store.Policy
	done    bool
}

func (l *localPolicies) peek(ctx context.Context) (*store.Policy, error) {
	if len(l.buf) == 0 && !l.done {
		recs, err := l.tx.List(ctx, store.KindPolicy, l.account, l.q)
		if err != nil {
			return nil, err
		}
		l.done = len(recs) < l.q.Limit
		for _, r := range recs {
			var p store.Policy
			if err := store.Decode(r, &p); err != nil {
				return nil, err
			}
			l.buf = append(l.buf, p)
		}
		if len(recs) > 0 {
			l.q.After = recs[len(recs)-1].Key
		}
	}
	if len(l.buf) == 0 {
		return nil, nil
	}
	return &l.buf[0], nil
}

// awsPoliciesFrom iterates the catalogue from index i, skipping paths outside prefix.
type awsPoliciesFrom struct {
	set    *awsmanaged.Set
	i      int
	prefix string
}

func (a *awsPoliciesFrom) peek() *awsmanaged.Policy {
	for a.i < a.set.Len() {
		if p := a.set.At(a.i); strings.HasPrefix(p.Path, a.prefix) {
			return p
		}
		a.i++
	}
	return nil
}

// ListPolicies lists managed policies: the account's own (Scope Local), AWS's (Scope AWS) or
// both (All, the default); OnlyAttached keeps those attached to a user, group or role, and
// PolicyUsageFilter those in use as permissions policies or as permissions boundaries.
func (s *Service) ListPolicies(ctx context.Context, in *iam.ListPoliciesInput) (*iam.ListPoliciesOutput, error) {
	account := caller(ctx).Account
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	prefix, err := validatePathPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	afterName, tag, hasTag := strings.Cut(pg.after, "\x00")
	if pg.after != "" && (!hasTag || (tag != localTag[1:] && tag != awsTag[1:])) {
		return nil, awsquery.ValidationError("Invalid Marker: %q is not a marker this service returned.", *in.Marker)
	}
	withLocal := in.Scope != types.PolicyScopeTypeAws
	withAWS := in.Scope != types.PolicyScopeTypeLocal

	local := &localPolicies{account: account, q: store.Query{PathPrefix: prefix, After: afterName, Limit: pg.limit + 1}, done: !withLocal}
	remote := &awsPoliciesFrom{prefix: prefix}
	if withAWS {
		if remote.set, err = entity.AWSPolicies(); err != nil {
			return nil, s.internal(ctx, err)
		}
		remote.i = remote.set.Search(afterName)
		// The marker's own AWS entry was returned already; a local one sorts before its AWS twin.
		if tag == awsTag[1:] && remote.i < remote.set.Len() && remote.set.At(remote.i).SortKey() == afterName {
			remote.i++
		}
	} else {
		remote.set, remote.i = nil, 0
	}

	var entries []listedPolicy
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		local.tx = tx
		uses, err := boundaryUses(ctx, tx, account)
		if err != nil {
			return err
		}
		for len(entries) <= pg.limit {
			lp, err := local.peek(ctx)
			if err != nil {
				return err
			}
			var ap *awsmanaged.Policy
			if remote.set != nil {
				ap = remote.peek()
			}
			var e listedPolicy
			switch {
			case lp == nil && ap == nil:
				return nil
			case ap == nil || (lp != nil && store.NameKey(lp.Name) <= ap.SortKey()):
				p := *lp
				local.buf = local.buf[1:]
				e = listedPolicy{key: store.NameKey(p.Name) + localTag, m: entity.ManagedPolicy{ARN: entity.PolicyARN(account, &p), Local: &p}}
			default:
				remote.i++
				e = listedPolicy{key: ap.SortKey() + awsTag, m: entity.ManagedPolicy{ARN: ap.ARN, AWS: ap}}
			}
			if e.attached, err = attachmentCount(ctx, tx, account, e.m.ARN); err != nil {
				return err
			}
			e.boundaries = len(uses[e.m.ARN])
			if keepListed(in, e) {
				entries = append(entries, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, truncated, marker, err := cut(entries, pg.limit, func(e listedPolicy) string { return e.key })
	if err != nil {
		return nil, err
	}
	out := &iam.ListPoliciesOutput{Policies: make([]types.Policy, 0, len(page)), IsTruncated: truncated, Marker: marker}
	for i := range page {
		out.Policies = append(out.Policies, sdkPolicy(&page[i].m, page[i].attached, page[i].boundaries, policyListed))
	}
	return out, nil
}

// keepListed applies ListPolicies' usage filters to an entry.
func keepListed(in *iam.ListPoliciesInput, e listedPolicy) bool {
	if in.OnlyAttached && e.attached == 0 {
		return false
	}
	switch in.PolicyUsageFilter {
	case types.PolicyUsageTypePermissionsPolicy:
		return e.attached > 0
	case types.PolicyUsageTypePermissionsBoundary:
		return e.boundaries > 0
	}
	return true
}
