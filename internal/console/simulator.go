package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

type simulatorView struct {
	Principal, Actions, Resources, Context string
	Principals                             []string // the account's users, groups and roles, to choose from
	Results                                []types.EvaluationResult
	Matched                                []matchedStatement
}

// matchedStatement is a statement that decided a simulated request, shown inside its policy.
type matchedStatement struct {
	Action, Policy         string
	Before, Mark, After    string
	Found                  bool // the policy's document was readable; otherwise only its name is shown
	Line, Column           int32
	SourceType, DecisionOf string
}

// simulator runs SimulatePrincipalPolicy for a user, group or role ARN: one decision per
// action and resource, and the statements that decided it, highlighted in their policies.
func (c *Console) simulator(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	p := page{Title: "Policy simulator", S: cs, CSRF: cs.CSRF}
	client := c.iamClient(cs)
	v := simulatorView{Principal: strings.TrimSpace(r.FormValue("principal")), Actions: r.FormValue("actions"),
		Resources: r.FormValue("resources"), Context: r.FormValue("context"), Principals: principalARNs(r.Context(), client)}
	if r.Method == http.MethodPost {
		in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(v.Principal), ActionNames: fields(v.Actions), ResourceArns: fields(v.Resources)}
		entries, msg := contextEntries(v.Context)
		p.fail(msg)
		if msg == "" {
			in.ContextEntries = entries
			pages := iam.NewSimulatePrincipalPolicyPaginator(client, in)
			for pages.HasMorePages() {
				out, err := pages.NextPage(r.Context())
				if err != nil {
					p.fail(apiMessage(err))
					break
				}
				v.Results = append(v.Results, out.EvaluationResults...)
			}
		}
		if len(v.Results) > 0 {
			docs := policyDocuments(r.Context(), client, v.Principal)
			for _, res := range v.Results {
				for _, st := range res.MatchedStatements {
					v.Matched = append(v.Matched, locate(docs, aws.ToString(res.EvalActionName), string(res.EvalDecision), st))
				}
			}
		}
	}
	p.Data = v
	c.render(w, http.StatusOK, "simulator", p)
}

// principalARNs are the ARNs the simulator offers: the account's users, groups and roles that
// the signed-in identity may list (first pages only).
func principalARNs(ctx context.Context, client *iam.Client) []string {
	var out []string
	if u, err := client.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
		for _, x := range u.Users {
			out = append(out, aws.ToString(x.Arn))
		}
	}
	if g, err := client.ListGroups(ctx, &iam.ListGroupsInput{}); err == nil {
		for _, x := range g.Groups {
			out = append(out, aws.ToString(x.Arn))
		}
	}
	if ro, err := client.ListRoles(ctx, &iam.ListRolesInput{}); err == nil {
		for _, x := range ro.Roles {
			out = append(out, aws.ToString(x.Arn))
		}
	}
	return out
}

// policyDocuments reads the documents of the principal's policies, keyed as the simulator
// names their sources (SourcePolicyType "/" SourcePolicyId): inline policies of the user, its
// groups, the group or the role, and the default versions of the managed policies attached to
// them. What the signed-in identity may not read is left out.
func policyDocuments(ctx context.Context, client *iam.Client, principalARN string) map[string]string {
	docs := map[string]string{}
	resource := principalARN[strings.LastIndex(principalARN, ":")+1:]
	kind, name := resource, ""
	if i := strings.IndexByte(resource, '/'); i >= 0 {
		kind, name = resource[:i], resource[strings.LastIndexByte(resource, '/')+1:]
	}
	put := func(key, doc string) {
		if d, err := url.QueryUnescape(doc); err == nil {
			docs[key] = d
		}
	}
	managed := func(attached []types.AttachedPolicy) {
		for _, a := range attached {
			pol, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: a.PolicyArn})
			if err != nil {
				continue
			}
			ver, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: a.PolicyArn, VersionId: pol.Policy.DefaultVersionId})
			if err != nil {
				continue
			}
			typ := types.PolicySourceTypeUserManaged
			if strings.HasPrefix(aws.ToString(a.PolicyArn), "arn:aws:iam::aws:") {
				typ = types.PolicySourceTypeAwsManaged
			}
			put(string(typ)+"/"+aws.ToString(a.PolicyName), aws.ToString(ver.PolicyVersion.Document))
		}
	}
	group := func(g string) {
		if names, err := client.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String(g)}); err == nil {
			for _, n := range names.PolicyNames {
				if out, err := client.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(g), PolicyName: aws.String(n)}); err == nil {
					put("group/"+n, aws.ToString(out.PolicyDocument))
				}
			}
		}
		if a, err := client.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(g)}); err == nil {
			managed(a.AttachedPolicies)
		}
	}
	switch kind {
	case "user":
		if names, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(name)}); err == nil {
			for _, n := range names.PolicyNames {
				if out, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(n)}); err == nil {
					put("user/"+n, aws.ToString(out.PolicyDocument))
				}
			}
		}
		if a, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)}); err == nil {
			managed(a.AttachedPolicies)
		}
		if gs, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(name)}); err == nil {
			for _, g := range gs.Groups {
				group(aws.ToString(g.GroupName))
			}
		}
	case "group":
		group(name)
	case "role":
		if names, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)}); err == nil {
			for _, n := range names.PolicyNames {
				if out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(n)}); err == nil {
					put("role/"+n, aws.ToString(out.PolicyDocument))
				}
			}
		}
		if a, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}); err == nil {
			managed(a.AttachedPolicies)
		}
	}
	return docs
}

// locate cuts the statement out of its policy's document. The simulator's StartPosition is
// the first character inside the statement's opening brace and EndPosition just past its
// closing brace (lines and columns from 1), as AWS counts them.
func locate(docs map[string]string, action, decision string, st types.Statement) matchedStatement {
	m := matchedStatement{Action: action, DecisionOf: decision, Policy: aws.ToString(st.SourcePolicyId), SourceType: string(st.SourcePolicyType)}
	if st.StartPosition != nil {
		m.Line, m.Column = st.StartPosition.Line, st.StartPosition.Column
	}
	doc, ok := docs[string(st.SourcePolicyType)+"/"+m.Policy]
	if !ok || st.StartPosition == nil || st.EndPosition == nil {
		return m
	}
	start := offset(doc, int(st.StartPosition.Line), int(st.StartPosition.Column)-1) // the opening brace
	end := offset(doc, int(st.EndPosition.Line), int(st.EndPosition.Column))         // past the closing brace
	if start < 0 || end > len(doc) || start >= end {
		return m
	}
	m.Found, m.Before, m.Mark, m.After = true, doc[:start], doc[start:end], doc[end:]
	return m
}

// offset is the byte offset of line and column (both from 1) in doc; -1 when there is none.
func offset(doc string, line, column int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(doc[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	if column < 1 {
		return -1
	}
	return off + column - 1
}

// fields splits a list typed one per line or separated by commas or spaces.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// contextEntries reads "key=value" lines (several values separated by commas) as string
// context entries.
func contextEntries(s string) ([]types.ContextEntry, string) {
	var out []types.ContextEntry
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, "Context keys are given one per line as key=value: " + line
		}
		out = append(out, types.ContextEntry{ContextKeyName: aws.String(strings.TrimSpace(k)), ContextKeyType: types.ContextKeyTypeEnumStringList,
			ContextKeyValues: strings.Split(strings.TrimSpace(val), ",")})
	}
	return out, ""
}
