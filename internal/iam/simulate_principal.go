package iam

import (
	"context"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func (s *Service) simulatePrincipalOperations() []operation {
	return []operation{
		{"SimulatePrincipalPolicy", awsquery.Handle(s.SimulatePrincipalPolicy)},
		{"GetContextKeysForPrincipalPolicy", awsquery.Handle(s.GetContextKeysForPrincipalPolicy)},
	}
}

// policySource is the user, group or role a PolicySourceArn names, with its policies as the
// server's authorization gathers them.
type policySource struct {
	kind     store.Kind
	arn      string
	identity enforce.PolicyList
	boundary enforce.PolicyList
}

// loadPolicySource finds the entity of PolicySourceArn in account and gathers its policies: a
// user's own and its groups', a group's, a role's; and the user's or role's boundary.
func (s *Service) loadPolicySource(ctx context.Context, account, sourceARN string) (*policySource, error) {
	invalid := awsquery.InvalidInput("Invalid PolicySourceArn %s: it must be the ARN of an IAM user, group or role.", sourceARN)
	rest, ok := strings.CutPrefix(sourceARN, "arn:aws:iam::")
	if !ok {
		return nil, invalid
	}
	owner, resource, _ := strings.Cut(rest, ":")
	typ, pathName, ok := strings.Cut(resource, "/")
	if !ok || pathName == "" {
		return nil, invalid
	}
	var kind store.Kind
	switch typ {
	case "user":
		kind = store.KindUser
	case "group":
		kind = store.KindGroup
	case "role":
		kind = store.KindRole
	default:
		return nil, invalid
	}
	name := pathName[strings.LastIndex(pathName, "/")+1:]
	missing := awsquery.NoSuchEntity("The %s with name %s cannot be found.", typ, name)
	if owner != account {
		// IAM sees only the caller's account.
		return nil, missing
	}
	src := &policySource{kind: kind, arn: sourceARN}
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		rec, err := tx.Get(ctx, kind, account, store.NameKey(name))
		if isNotFound(err) {
			return missing
		}
		if err != nil {
			return err
		}
		var m store.Meta
		if err := store.DecodeMeta(rec, &m); err != nil {
			return err
		}
		if entity.ARN(account, typ, m.Path, m.Name) != sourceARN {
			return missing // an ARN spells the path and the name exactly
		}
		if kind == store.KindGroup {
			return s.enforcer.GatherOwn(ctx, tx, account, kind, rec.ID, types.PolicySourceTypeGroup, &src.identity)
		}
		_, _, err = s.enforcer.GatherEntity(ctx, tx, kind, rec.ID, &src.identity, &src.boundary)
		return err
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// simulationList converts gathered policies for the simulator: a managed policy is named by its
// name, an inline one by its own, as SourcePolicyId shows them. kinds records each source's
// SourcePolicyType.
func simulationList(l *enforce.PolicyList, kinds map[authz.Source]types.PolicySourceType) ([]*policy.Policy, []authz.Source) {
	srcs := make([]authz.Source, len(l.Sources))
	for i, src := range l.Sources {
		if k := l.Kinds[i]; k == types.PolicySourceTypeAwsManaged || k == types.PolicySourceTypeUserManaged {
			src.ID = src.ID[strings.LastIndex(src.ID, "/")+1:]
		}
		if _, ok := kinds[src]; !ok {
			kinds[src] = l.Kinds[i]
		}
		srcs[i] = src
	}
	return l.Policies, srcs
}

// SimulatePrincipalPolicy evaluates the policies of a user (with its groups'), group or role,
// plus any PolicyInputList documents, for every action on every resource, by the same
// evaluation logic as the server. Following the API reference: PermissionsBoundaryPolicyInputList
// replaces the entity's own boundary; CallerArn (an IAM user's ARN) defaults to the source
// user, and is required with a ResourcePolicy when the source is not a user; ResourceOwner (an
// account's root ARN) owns the simulated resources. Context keys come only from ContextEntries:
// the simulator reports the ones the policies need as missing.
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput) (*iam.SimulatePrincipalPolicyOutput, error) {
	account := caller(ctx).Account
	if err := validateSimulationActions(in.ActionNames); err != nil {
		return nil, err
	}
	src, err := s.loadPolicySource(ctx, account, aws.ToString(in.PolicySourceArn))
	if err != nil {
		return nil, err
	}
	kinds := map[authz.Source]types.PolicySourceType{}
	ps, srcs := simulationList(&src.identity, kinds)
	for i, doc := range in.PolicyInputList {
		p, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			return nil, simulationInvalidPolicy("PolicyInputList", i, err)
		}
		ps = append(ps, p)
		srcs = append(srcs, authz.Source{Type: authz.IdentityPolicy, ID: "PolicyInputList." + strconv.Itoa(i+1)})
	}
	sim := &simulation{actions: in.ActionNames, resources: in.ResourceArns}
	sim.base.Identity = authz.NewPolicies(ps, srcs)
	switch {
	case len(in.PermissionsBoundaryPolicyInputList) > 0:
		if sim.base.Boundary, err = simulationPolicies(in.PermissionsBoundaryPolicyInputList, "PermissionsBoundaryPolicyInputList", authz.BoundaryPolicy); err != nil {
			return nil, err
		}
	case len(src.boundary.Policies) > 0:
		bps, bsrcs := simulationList(&src.boundary, kinds)
		sim.base.Boundary = authz.NewPolicies(bps, bsrcs)
	}
	if sim.base.Context, err = contextFromEntries(in.ContextEntries); err != nil {
		return nil, err
	}
	switch {
	case in.CallerArn != nil:
		if sim.base.Caller, err = simulationCaller(*in.CallerArn); err != nil {
			return nil, err
		}
	case src.kind == store.KindUser:
		sim.base.Caller = &authz.Caller{Type: authz.User, Principal: policy.Principal{Account: account, ARN: src.arn}}
	case src.kind == store.KindRole:
		sim.base.Caller = &authz.Caller{Type: authz.AssumedRole, Principal: policy.Principal{Account: account, ARN: src.arn, RoleARN: src.arn}}
	default:
		sim.base.Caller = &authz.Caller{Type: authz.User, Principal: policy.Principal{Account: account}}
	}
	if in.ResourcePolicy != nil {
		if in.CallerArn == nil && src.kind != store.KindUser {
			return nil, awsquery.InvalidInput("CallerArn is required when a ResourcePolicy is included in the simulation and PolicySourceArn is not the ARN of an IAM user.")
		}
		p, err := authz.ParseResourcePolicy([]byte(*in.ResourcePolicy))
		if err != nil {
			return nil, simulationInvalidResourcePolicy(err)
		}
		sim.base.ResourcePolicy = authz.NewPolicies([]*policy.Policy{p}, []authz.Source{{Type: authz.ResourcePolicy, ID: "ResourcePolicy"}})
	}
	if in.ResourceOwner != nil {
		if sim.base.ResourceAccount, err = simulationOwner(*in.ResourceOwner); err != nil {
			return nil, err
		}
	}
	sim.sourceType = func(src authz.Source) types.PolicySourceType {
		if src.Type == authz.ResourcePolicy {
			return types.PolicySourceTypeResource
		}
		return kinds[src] // "" for the input lists: AWS leaves the type out
	}
	page, err := sim.run(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.SimulatePrincipalPolicyOutput{EvaluationResults: page.results, IsTruncated: page.truncated, Marker: page.marker}, nil
}

// GetContextKeysForPrincipalPolicy returns the condition keys and policy variables that the
// identity-based policies of a user (and its groups), group or role use, with those of any
// PolicyInputList documents, sorted and without duplicates.
func (s *Service) GetContextKeysForPrincipalPolicy(ctx context.Context, in *iam.GetContextKeysForPrincipalPolicyInput) (*iam.GetContextKeysForPrincipalPolicyOutput, error) {
	account := caller(ctx).Account
	src, err := s.loadPolicySource(ctx, account, aws.ToString(in.PolicySourceArn))
	if err != nil {
		return nil, err
	}
	ps := append([]*policy.Policy(nil), src.identity.Policies...)
	for i, doc := range in.PolicyInputList {
		p, err := parseSimulationPolicy(doc)
		if err != nil {
			return nil, simulationInvalidPolicy("PolicyInputList", i, err)
		}
		ps = append(ps, p)
	}
	keys := policy.ContextKeys(ps...)
	if keys == nil {
		keys = []string{}
	}
	return &iam.GetContextKeysForPrincipalPolicyOutput{ContextKeyNames: keys}, nil
}
