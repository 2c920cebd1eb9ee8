package iam

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/policy"
	"github.com/gatehouse-iam/gatehouse/policy/condition"
)

// This file holds what SimulateCustomPolicy and SimulatePrincipalPolicy share: context entries,
// the (action x resource) matrix with its pagination, and the conversion of an authz.Result to
// the SDK's EvaluationResult. Both operations run the same authz code as the server.

// simulation is one simulator call, ready to evaluate: base is the request every
// (action, resource) pair starts from (caller, context, policies); actions and resources are
// the matrix.
type simulation struct {
	base      authz.Request
	actions   []string
	resources []string
	// sourceType gives a matched statement's SourcePolicyType ("" leaves it out, as
	// SimulateCustomPolicy does for its input lists).
	sourceType func(authz.Source) types.PolicySourceType
}

// simulationPage is one page of evaluation results.
type simulationPage struct {
	results   []types.EvaluationResult
	truncated bool
	marker    *string
}

// run evaluates the page of pairs that marker and maxItems select, action by action and,
// within an action, resource by resource.
func (sim *simulation) run(marker *string, maxItems *int32) (simulationPage, error) {
	start, limit := 0, 100
	if maxItems != nil {
		limit = int(*maxItems)
	}
	if marker != nil && *marker != "" {
		s, ok := decodeMarker(*marker)
		n, err := strconv.Atoi(s)
		// The position as Itoa writes it, so that "+1" or "01" are not other spellings of "1".
		if !ok || err != nil || n < 0 || strconv.Itoa(n) != s {
			return simulationPage{}, invalidMarker()
		}
		start = n
	}
	resources := sim.resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	total := len(sim.actions) * len(resources)
	var page simulationPage
	for i := start; i < total && len(page.results) < limit; i++ {
		req := sim.base
		req.Action = sim.actions[i/len(resources)]
		req.Resource = resources[i%len(resources)]
		page.results = append(page.results, evaluationResult(&req, authz.Explain(&req), len(sim.resources) > 0, sim.sourceType))
		if len(page.results) == limit && i+1 < total {
			page.truncated = true
			page.marker = encodeMarker(strconv.Itoa(i + 1))
		}
	}
	return page, nil
}

// evaluationResult converts the decision on one (action, resource) pair into the SDK shape.
// With resourceGiven (ResourceArns was set) the pair also has its ResourceSpecificResults entry,
// which carries the missing context values as the API reference says; for "*" they are on the
// result itself. EvalDecisionDetails is filled for cross-account simulations, present and
// empty for same-account ones with a resource ARN, and left out for "*".
func evaluationResult(req *authz.Request, r authz.Result, resourceGiven bool, sourceType func(authz.Source) types.PolicySourceType) types.EvaluationResult {
	stmts := make([]types.Statement, 0, len(r.Matched))
	for _, m := range r.Matched {
		st := types.Statement{
			SourcePolicyId: aws.String(m.Source.ID),
			// AWS counts the start column from the first character inside the statement's
			// opening brace and the end column just past its closing brace.
			StartPosition: &types.Position{Line: int32(m.Start.Line), Column: int32(m.Start.Column + 1)},
			EndPosition:   &types.Position{Line: int32(m.End.Line), Column: int32(m.End.Column)},
		}
		if sourceType != nil {
			st.SourcePolicyType = sourceType(m.Source)
		}
		stmts = append(stmts, st)
	}
	missing := append([]string{}, r.Missing...)
	decision := types.PolicyEvaluationDecisionType(r.Decision)
	out := types.EvaluationResult{
		EvalActionName:       aws.String(req.Action),
		EvalResourceName:     aws.String(req.Resource),
		EvalDecision:         decision,
		MatchedStatements:    stmts,
		MissingContextValues: missing,
	}
	var details map[string]types.PolicyEvaluationDecisionType
	cross := req.ResourceAccount != "" && req.Caller != nil && req.ResourceAccount != req.Caller.Account
	switch {
	case cross:
		details = map[string]types.PolicyEvaluationDecisionType{}
		for _, t := range []authz.PolicyType{authz.IdentityPolicy, authz.ResourcePolicy} {
			d, ok := r.Detail(t)
			if !ok {
				d = authz.ImplicitDeny
			}
			details[string(t)] = types.PolicyEvaluationDecisionType(d)
		}
	case req.Resource != "*":
		details = map[string]types.PolicyEvaluationDecisionType{}
	}
	if d, ok := r.Detail(authz.SCPPolicy); ok {
		out.OrganizationsDecisionDetail = &types.OrganizationsDecisionDetail{AllowedByOrganizations: d == authz.Allowed}
		if d != authz.Allowed {
			details = nil // "If an Organizations SCP ... denies access ... this parameter is not returned."
		}
	}
	var boundary *types.PermissionsBoundaryDecisionDetail
	if d, ok := r.Detail(authz.BoundaryPolicy); ok {
		boundary = &types.PermissionsBoundaryDecisionDetail{AllowedByPermissionsBoundary: d == authz.Allowed}
	}
	out.EvalDecisionDetails = details
	out.PermissionsBoundaryDecisionDetail = boundary
	if resourceGiven {
		out.MissingContextValues = []string{}
		out.ResourceSpecificResults = []types.ResourceSpecificResult{{
			EvalResourceName:                  aws.String(req.Resource),
			EvalResourceDecision:              decision,
			MatchedStatements:                 stmts,
			MissingContextValues:              missing,
			EvalDecisionDetails:               details,
			PermissionsBoundaryDecisionDetail: boundary,
		}}
	}
	return out
}

// contextFromEntries builds the request context from ContextEntries, checking each value
// against its ContextKeyType. A list type gives a multivalued key; a scalar type takes one
// value.
func contextFromEntries(entries []types.ContextEntry) (*policy.Context, error) {
	ctx := &policy.Context{}
	for _, e := range entries {
		name := aws.ToString(e.ContextKeyName)
		if name == "" {
			return nil, awsquery.InvalidInput("ContextKeyName is required in every context entry.")
		}
		typ := string(e.ContextKeyType)
		if typ == "" {
			return nil, awsquery.InvalidInput("ContextKeyType is required for context key %s.", name)
		}
		base, list := strings.CutSuffix(typ, "List")
		for _, v := range e.ContextKeyValues {
			if !validContextValue(base, v) {
				return nil, awsquery.InvalidInput("Context key %s of type %s has an invalid value: %s", name, typ, v)
			}
		}
		if list {
			ctx.SetMulti(name, e.ContextKeyValues...)
			continue
		}
		if len(e.ContextKeyValues) != 1 {
			return nil, awsquery.InvalidInput("Context key %s of type %s takes exactly one value; use %sList for several.", name, typ, typ)
		}
		ctx.Set(name, e.ContextKeyValues[0])
	}
	return ctx, nil
}

// validContextValue checks a value against a ContextKeyType without its List suffix.
func validContextValue(typ, v string) bool {
	switch typ {
	case "numeric":
		_, ok := condition.ParseNumber(v)
		return ok
	case "boolean":
		_, ok := condition.ParseBool(v)
		return ok
	case "ip":
		_, ok := condition.ParsePrefix(v)
		return ok
	case "date":
		_, err := condition.ParseDate(v)
		return err == nil
	case "binary":
		_, err := base64.StdEncoding.DecodeString(v)
		return err == nil
	}
	return true
}

// simulationInvalidPolicy answers InvalidInput for a document of a simulator input list that is
// not a valid policy, naming the parameter member as the SDK numbers it (from 1).
func simulationInvalidPolicy(param string, i int, err error) error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return awsquery.InvalidInput("%s.%d: %s", param, i+1, pe.Message)
	}
	return err
}

// validateSimulationActions checks ActionNames: each names its service, and wildcards are not
// supported ("This operation does not support using wildcards (*) in an action name.").
func validateSimulationActions(actions []string) error {
	if len(actions) == 0 {
		return awsquery.InvalidInput("ActionNames must contain at least one action.")
	}
	for _, a := range actions {
		if strings.ContainsAny(a, "*?") {
			return awsquery.InvalidInput("Action %s: the simulator does not support wildcards in action names.", a)
		}
		svc, name, ok := strings.Cut(a, ":")
		if !ok || svc == "" || name == "" {
			return awsquery.InvalidInput("Action %s must include the service prefix, such as iam:CreateUser.", a)
		}
	}
	return nil
}
