package iam

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func (s *Service) simulateOperations() []operation {
	return []operation{
		{"SimulateCustomPolicy", awsquery.Handle(s.SimulateCustomPolicy)},
		{"GetContextKeysForCustomPolicy", awsquery.Handle(s.GetContextKeysForCustomPolicy)},
	}
}

// SimulateCustomPolicy evaluates the given identity-based policies (with an optional
// permissions boundary and resource-based policy) for every action on every resource, as the
// server's authorization would. Following the API reference: CallerArn, which must be an IAM
// user's ARN, is required with a ResourcePolicy; ResourceOwner (an account's root ARN) owns
// every simulated resource and the resource policy, and defaults to the caller's account.
// ResourceHandlingOption (EC2 scenarios) is accepted and has no effect.
func (s *Service) SimulateCustomPolicy(ctx context.Context, in *iam.SimulateCustomPolicyInput) (*iam.SimulateCustomPolicyOutput, error) {
	account := caller(ctx).Account
	if err := validateSimulationActions(in.ActionNames); err != nil {
		return nil, err
	}
	identity, err := simulationPolicies(in.PolicyInputList, "PolicyInputList", authz.IdentityPolicy)
	if err != nil {
		return nil, err
	}
	sim := &simulation{actions: in.ActionNames, resources: in.ResourceArns}
	sim.base.Identity = identity
	if len(in.PermissionsBoundaryPolicyInputList) > 0 {
		if sim.base.Boundary, err = simulationPolicies(in.PermissionsBoundaryPolicyInputList, "PermissionsBoundaryPolicyInputList", authz.BoundaryPolicy); err != nil {
			return nil, err
		}
	}
	if sim.base.Context, err = contextFromEntries(in.ContextEntries); err != nil {
		return nil, err
	}
	c := &authz.Caller{Type: authz.User, Principal: policy.Principal{Account: account}}
	if in.CallerArn != nil {
		if c, err = simulationCaller(*in.CallerArn); err != nil {
			return nil, err
		}
	}
	sim.base.Caller = c
	if in.ResourcePolicy != nil {
		if in.CallerArn == nil {
			return nil, awsquery.InvalidInput("CallerArn is required when a ResourcePolicy is included in the simulation.")
		}
		p, err := authz.ParseResourcePolicy([]byte(*in.ResourcePolicy))
		if err != nil {
			return nil, simulationInvalidResourcePolicy(err)
		}
		sim.base.ResourcePolicy = authz.NewPolicies([]*policy.Policy{p}, []authz.Source{{Type: authz.ResourcePolicy, ID: "ResourcePolicy"}})
	}
	if in.ResourceOwner != nil {
		owner, err := simulationOwner(*in.ResourceOwner)
		if err != nil {
			return nil, err
		}
		sim.base.ResourceAccount = owner
	}
	sim.sourceType = func(src authz.Source) types.PolicySourceType {
		if src.Type == authz.ResourcePolicy {
			return types.PolicySourceTypeResource
		}
		return "" // AWS leaves SourcePolicyType out for the input lists
	}
	page, err := sim.run(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.SimulateCustomPolicyOutput{EvaluationResults: page.results, IsTruncated: page.truncated, Marker: page.marker}, nil
}

// GetContextKeysForCustomPolicy returns the condition keys and policy variables the given
// policies use, sorted and without duplicates.
func (s *Service) GetContextKeysForCustomPolicy(ctx context.Context, in *iam.GetContextKeysForCustomPolicyInput) (*iam.GetContextKeysForCustomPolicyOutput, error) {
	ps := make([]*policy.Policy, 0, len(in.PolicyInputList))
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
	return &iam.GetContextKeysForCustomPolicyOutput{ContextKeyNames: keys}, nil
}

// parseSimulationPolicy validates an input-list document: an identity-based policy, or a
// resource-based one (GetContextKeysForCustomPolicy takes either).
func parseSimulationPolicy(doc string) (*policy.Policy, error) {
	p, err := policy.Parse([]byte(doc), policy.Identity)
	if err == nil {
		return p, nil
	}
	if rp, rerr := authz.ParseResourcePolicy([]byte(doc)); rerr == nil {
		return rp, nil
	}
	return nil, err
}

// simulationPolicies compiles an input list of identity-based documents; sources are named as
// the simulator names them: "PolicyInputList.1", ...
func simulationPolicies(docs []string, param string, t authz.PolicyType) (*authz.Policies, error) {
	ps := make([]*policy.Policy, 0, len(docs))
	srcs := make([]authz.Source, 0, len(docs))
	for i, doc := range docs {
		p, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			return nil, simulationInvalidPolicy(param, i, err)
		}
		ps = append(ps, p)
		srcs = append(srcs, authz.Source{Type: t, ID: param + "." + strconv.Itoa(i+1)})
	}
	return authz.NewPolicies(ps, srcs), nil
}

func simulationInvalidResourcePolicy(err error) error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return awsquery.InvalidInput("ResourcePolicy: %s", pe.Message)
	}
	return err
}

// simulationCaller reads CallerArn: "You can specify only the ARN of an IAM user. You cannot
// specify the ARN of an assumed role, federated user, or a service principal."
func simulationCaller(s string) (*authz.Caller, error) {
	c, err := authz.ParseCaller(s)
	if err != nil || c == nil || c.Type != authz.User {
		return nil, awsquery.InvalidInput("Invalid CallerArn %s: it must be the ARN of an IAM user.", s)
	}
	return c, nil
}

// simulationOwner reads ResourceOwner, an account's ARN: arn:aws:iam::ACCOUNT-ID:root.
func simulationOwner(s string) (string, error) {
	c, err := authz.ParseCaller(s)
	if err != nil || c == nil || c.Type != authz.Root {
		return "", awsquery.InvalidInput("Invalid ResourceOwner %s: it must be an account ARN such as arn:aws:iam::123456789012:root.", s)
	}
	return c.Account, nil
}
