package iam

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	arnpkg "github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// ListPoliciesGrantingServiceAccess answers, per service namespace, which of an identity's
// permissions policies can grant access to that service (IAM API Reference: a user's own
// inline and managed policies and those of its groups; a group's or a role's own; not
// permissions boundaries). AWS does not say how it decides that a policy grants access;
// Gatehouse reads the policy's statements only, as the reference says the operation "only
// applies permissions policy logic":
//   - A statement counts when its Effect is Allow. Deny statements remove nothing: a policy
//     with an Allow for the service is listed even if another statement denies it.
//   - Action grants the service when one of its patterns matches at least one of the
//     service's actions in the Service Authorization Reference ("*", "s3:*", "s3:Get*",
//     "s3:GetObject" all grant s3; "s3:Nope*" does not).
//   - NotAction grants the service when at least one of its actions is matched by none of
//     the patterns (NotAction "iam:*" grants s3, not iam).
//   - Resource, NotResource and Condition are not considered: a statement that may apply
//     grants access.
//
// A namespace the reference does not know still gets an answer: only patterns that cover
// every action of it ("*", "svc:*") grant it, and NotAction grants it unless such a pattern
// is listed.

func (s *Service) policiesGrantingOperations() []operation {
	return []operation{
		{"ListPoliciesGrantingServiceAccess", awsquery.Handle(s.ListPoliciesGrantingServiceAccess)},
	}
}

// grantingPageSize is how many namespaces one answer covers. The operation has no MaxItems;
// 100 is IAM's default page size for the operations that have one.
const grantingPageSize = 100

// grantingPolicy is one permissions policy of the identity with what the answer shows of it.
type grantingPolicy struct {
	entry types.PolicyGrantingServiceAccess
	doc   *policy.Policy
}

// ListPoliciesGrantingServiceAccess lists, for each requested service namespace, the
// identity's policies that can grant access to it.
func (s *Service) ListPoliciesGrantingServiceAccess(ctx context.Context, in *iam.ListPoliciesGrantingServiceAccessInput) (*iam.ListPoliciesGrantingServiceAccessOutput, error) {
	account := caller(ctx).Account
	start, err := grantingMarker(in.Marker, len(in.ServiceNamespaces))
	if err != nil {
		return nil, err
	}
	kind, name, err := grantingIdentity(aws.ToString(in.Arn))
	if err != nil {
		return nil, err
	}
	ref, err := servicedata.Load()
	if err != nil {
		return nil, fmt.Errorf("iam: service reference: %w", err)
	}
	var policies []grantingPolicy
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		policies, err = s.identityPolicies(ctx, tx, account, kind, name, aws.ToString(in.Arn))
		return err
	})
	if err != nil {
		return nil, err
	}
	page := in.ServiceNamespaces[start:]
	truncated := len(page) > grantingPageSize
	var next *string
	if truncated {
		page = page[:grantingPageSize]
		next = encodeMarker(strconv.Itoa(start + grantingPageSize))
	}
	out := make([]types.ListPoliciesGrantingServiceAccessEntry, 0, len(page))
	for _, ns := range page {
		actions := serviceActions(ref, ns)
		entry := types.ListPoliciesGrantingServiceAccessEntry{ServiceNamespace: aws.String(ns), Policies: []types.PolicyGrantingServiceAccess{}}
		for _, p := range policies {
			if grantsService(p.doc, ns, actions) {
				entry.Policies = append(entry.Policies, p.entry)
			}
		}
		out = append(out, entry)
	}
	return &iam.ListPoliciesGrantingServiceAccessOutput{PoliciesGrantingServiceAccess: out, IsTruncated: truncated, Marker: next}, nil
}

// grantingMarker returns the index of the first namespace the Marker asks for. A marker is
// one this server issued for a list of at least that many namespaces.
func grantingMarker(marker *string, namespaces int) (int, error) {
	if marker == nil || *marker == "" {
		return 0, nil
	}
	text, ok := decodeMarker(*marker)
	if !ok {
		return 0, invalidMarker()
	}
	n, err := strconv.Atoi(text)
	if err != nil || n <= 0 || n >= namespaces || strconv.Itoa(n) != text {
		return 0, invalidMarker()
	}
	return n, nil
}

// grantingIdentity reads the kind and name of the user, group or role an Arn names.
func grantingIdentity(a string) (store.Kind, string, error) {
	if !strings.HasPrefix(a, "arn:") {
		return "", "", awsquery.InvalidInput("ARN %s is not valid.", a) // AWS's text for a value that is not an ARN
	}
	invalid := awsquery.InvalidInput("Invalid ARN %s: ListPoliciesGrantingServiceAccess takes the ARN of an IAM user, group or role (arn:aws:iam::ACCOUNT:user/NAME).", a)
	rest, ok := strings.CutPrefix(a, "arn:aws:iam::")
	if !ok {
		return "", "", invalid
	}
	account, resource, _ := strings.Cut(rest, ":")
	typ, pathName, ok := strings.Cut(resource, "/")
	if !policy.IsAccountID(account) || !ok || pathName == "" || strings.HasSuffix(pathName, "/") {
		return "", "", invalid
	}
	name := pathName[strings.LastIndex(pathName, "/")+1:]
	switch typ {
	case "user":
		return store.KindUser, name, nil
	case "group":
		return store.KindGroup, name, nil
	case "role":
		return store.KindRole, name, nil
	}
	return "", "", invalid
}

// identityPolicies loads the identity an ARN names and its permissions policies: a user's own
// inline, then its own managed policies, then each group's (groups in name order); a group's
// or a role's own. A managed policy attached more than once is listed once.
func (s *Service) identityPolicies(ctx context.Context, tx store.Tx, account string, kind store.Kind, name, identityARN string) ([]grantingPolicy, error) {
	typ := string(kind) // the store's kinds bear the resource type's name
	missing := awsquery.NoSuchEntity("The %s with name %s cannot be found.", typ, name)
	if arnAccount(identityARN) != account {
		return nil, missing // IAM sees only the caller's account; authorization refused others
	}
	rec, err := tx.Get(ctx, kind, account, store.NameKey(name))
	if isNotFound(err) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	var m store.Meta
	if err := store.DecodeMeta(rec, &m); err != nil {
		return nil, err
	}
	if entity.ARN(account, typ, m.Path, m.Name) != identityARN {
		return nil, missing // an ARN spells the path and the name exactly
	}
	var out []grantingPolicy
	seen := map[string]bool{}
	if err := s.ownGrantingPolicies(ctx, tx, account, kind, rec.ID, m.Name, seen, &out); err != nil {
		return nil, err
	}
	if kind != store.KindUser {
		return out, nil
	}
	links, err := tx.LinksTo(ctx, account, store.LinkMember, rec.ID)
	if err != nil {
		return nil, err
	}
	var groups []*store.Group
	for _, l := range links {
		g, _, err := store.LoadByID[store.Group](ctx, tx, store.KindGroup, l.From)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return store.NameKey(groups[i].Name) < store.NameKey(groups[j].Name) })
	for _, g := range groups {
		if err := s.ownGrantingPolicies(ctx, tx, account, store.KindGroup, g.ID, g.Name, seen, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ownGrantingPolicies appends the inline and attached policies of one user, group or role.
func (s *Service) ownGrantingPolicies(ctx context.Context, tx store.Tx, account string, kind store.Kind, id, name string, seen map[string]bool, out *[]grantingPolicy) error {
	var l enforce.PolicyList
	if err := s.enforcer.GatherOwn(ctx, tx, account, kind, id, types.PolicySourceTypeNone, &l); err != nil {
		return err
	}
	owner := types.PolicyOwnerEntityType(strings.ToUpper(string(kind)))
	for i, p := range l.Policies {
		src := l.Sources[i].ID
		var e types.PolicyGrantingServiceAccess
		switch l.Kinds[i] {
		case types.PolicySourceTypeAwsManaged, types.PolicySourceTypeUserManaged:
			if seen[src] {
				continue
			}
			seen[src] = true
			e = types.PolicyGrantingServiceAccess{PolicyName: aws.String(src[strings.LastIndex(src, "/")+1:]), PolicyType: types.PolicyTypeManaged, PolicyArn: aws.String(src)}
		default:
			e = types.PolicyGrantingServiceAccess{PolicyName: aws.String(src), PolicyType: types.PolicyTypeInline, EntityType: owner, EntityName: aws.String(name)}
		}
		*out = append(*out, grantingPolicy{entry: e, doc: p})
	}
	return nil
}

// serviceActions returns the names of a namespace's actions; nil when the reference does not
// know it.
func serviceActions(ref *servicedata.Reference, ns string) []string {
	svc, ok := ref.Service(ns)
	if !ok {
		return nil
	}
	return svc.Actions()
}

// grantsService reports whether one of p's Allow statements can grant an action of ns.
func grantsService(p *policy.Policy, ns string, actions []string) bool {
	for _, st := range p.Statements() {
		if st.Effect != policy.Allow {
			continue
		}
		if st.NotAction {
			if !coversService(st.Action, ns, actions) {
				return true
			}
		} else if matchesService(st.Action, ns, actions) {
			return true
		}
	}
	return false
}

// forService returns the action part of pattern when the pattern can match actions of ns
// (ok), and whether it matches all of them, whatever they are (whole): "*", or "ns:" followed
// by only "*". The service part is compared first, so that a policy naming many services
// costs a glob only for the patterns of ns.
func forService(pattern, ns string) (act string, whole, ok bool) {
	if pattern != "" && strings.Trim(pattern, "*") == "" {
		return "", true, true
	}
	svc, act, found := strings.Cut(pattern, ":")
	if !found || !(strings.EqualFold(svc, ns) || arnpkg.HasWildcard(svc) && arnpkg.Glob(svc, ns, true)) {
		return "", false, false
	}
	return act, act != "" && strings.Trim(act, "*") == "", true
}

// matchesService reports whether a pattern matches at least one action of ns.
func matchesService(patterns []string, ns string, actions []string) bool {
	for _, pat := range patterns {
		act, whole, ok := forService(pat, ns)
		if whole {
			return true
		}
		if !ok {
			continue
		}
		for _, a := range actions {
			if arnpkg.Glob(act, a, true) {
				return true
			}
		}
	}
	return false
}

// coversService reports whether the patterns together match every action of ns.
func coversService(patterns []string, ns string, actions []string) bool {
	var acts []string
	for _, pat := range patterns {
		act, whole, ok := forService(pat, ns)
		if whole {
			return true
		}
		if ok {
			acts = append(acts, act)
		}
	}
	if len(actions) == 0 || len(acts) == 0 {
		return false
	}
	for _, a := range actions {
		matched := false
		for _, act := range acts {
			if arnpkg.Glob(act, a, true) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}
