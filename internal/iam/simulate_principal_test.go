package iam

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// simPrincipalFixture: alice has an inline policy, an attached customer-managed policy with a
// Deny, a group with its own policy, and a customer-managed boundary; a role and a group
// stand alone.
func simPrincipalFixture(t *testing.T) (*azFixture, string) {
	f := azNew(t)
	alice := f.user("alice", "/eng/")
	f.inline("alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:DeleteUser","iam:GetUser"],"Resource":"*"},`+
		`{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	f.attach("alice", f.managed("no-delete", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}`))
	_, err := f.svc.CreateGroup(f.root, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	f.must(err)
	_, err = f.svc.AddUserToGroup(f.root, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})
	f.must(err)
	_, err = f.svc.PutGroupPolicy(f.root, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("grp"),
		PolicyDocument: aws.String(allow("iam:ListGroups", "arn:aws:iam::"+f.account+":group/${aws:username}", ""))})
	f.must(err)
	bnd := f.managed("bnd", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:ListGroups","iam:ListRoles","iam:DeleteUser"],"Resource":"*"}]}`)
	_, err = f.svc.PutUserPermissionsBoundary(f.root, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("alice"), PermissionsBoundary: aws.String(bnd)})
	f.must(err)
	f.role("worker", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	_, err = f.svc.PutRolePolicy(f.root, &iam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("rp"), PolicyDocument: aws.String(allow("iam:ListUsers", "*", ""))})
	f.must(err)
	return f, alice.ARN
}

type simOutcome struct {
	decision types.PolicyEvaluationDecisionType
	ids      []string
	kinds    []types.PolicySourceType
	boundary *bool // AllowedByPermissionsBoundary, nil when absent
	missing  []string
}

func simOutcomes(results []types.EvaluationResult) map[string]simOutcome {
	out := map[string]simOutcome{}
	for _, r := range results {
		o := simOutcome{decision: r.EvalDecision, missing: r.MissingContextValues}
		for _, m := range r.MatchedStatements {
			o.ids = append(o.ids, aws.ToString(m.SourcePolicyId))
			o.kinds = append(o.kinds, m.SourcePolicyType)
		}
		if r.PermissionsBoundaryDecisionDetail != nil {
			b := r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary
			o.boundary = &b
		}
		out[*r.EvalActionName] = o
	}
	return out
}

func TestSimulatePrincipalPolicy(t *testing.T) {
	t.Parallel()
	f, aliceARN := simPrincipalFixture(t)
	roleARN := "arn:aws:iam::" + f.account + ":role/app/worker"
	groupARN := "arn:aws:iam::" + f.account + ":group/devs"
	yes, no := true, false
	for _, tc := range []struct {
		name string
		in   iam.SimulatePrincipalPolicyInput
		want map[string]simOutcome
	}{
		{
			name: "user with its group, managed policy and boundary",
			in: iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN),
				ActionNames: []string{"iam:CreateUser", "iam:DeleteUser", "iam:GetUser", "iam:ListGroups", "iam:ListRoles"}},
			want: map[string]simOutcome{
				"iam:CreateUser": {decision: types.PolicyEvaluationDecisionTypeAllowed, ids: []string{"p", "bnd"}, kinds: []types.PolicySourceType{"user", "user-managed"}, boundary: &yes},
				"iam:DeleteUser": {decision: types.PolicyEvaluationDecisionTypeExplicitDeny, ids: []string{"no-delete"}, kinds: []types.PolicySourceType{"user-managed"}, boundary: &yes},
				// GetUser is allowed by alice's policy but not by her boundary.
				"iam:GetUser": {decision: types.PolicyEvaluationDecisionTypeImplicitDeny, ids: []string{"p"}, kinds: []types.PolicySourceType{"user"}, boundary: &no},
				// The group policy names ${aws:username}, which the simulation was not given.
				// An implicit deny lists the Allow statements that matched but did not suffice.
				"iam:ListGroups": {decision: types.PolicyEvaluationDecisionTypeImplicitDeny, ids: []string{"bnd"}, kinds: []types.PolicySourceType{"user-managed"}, boundary: &yes, missing: []string{"aws:username"}},
				"iam:ListRoles":  {decision: types.PolicyEvaluationDecisionTypeImplicitDeny, ids: []string{"bnd"}, kinds: []types.PolicySourceType{"user-managed"}, boundary: &yes, missing: []string{"aws:SourceIp"}},
			},
		},
		{
			name: "context entries fill the missing keys",
			in: iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN), ActionNames: []string{"iam:ListGroups", "iam:ListRoles"},
				ResourceArns: []string{groupARN},
				ContextEntries: []types.ContextEntry{
					{ContextKeyName: aws.String("aws:username"), ContextKeyValues: []string{"devs"}, ContextKeyType: types.ContextKeyTypeEnumString},
					{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyValues: []string{"10.1.1.1"}, ContextKeyType: types.ContextKeyTypeEnumIp},
				}},
			want: map[string]simOutcome{
				"iam:ListGroups": {decision: types.PolicyEvaluationDecisionTypeAllowed, ids: []string{"grp", "bnd"}, kinds: []types.PolicySourceType{"group", "user-managed"}, boundary: &yes, missing: []string{}},
				"iam:ListRoles":  {decision: types.PolicyEvaluationDecisionTypeAllowed, ids: []string{"p", "bnd"}, kinds: []types.PolicySourceType{"user", "user-managed"}, boundary: &yes, missing: []string{}},
			},
		},
		{
			name: "the boundary input list replaces the user's boundary; input policies add",
			in: iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN), ActionNames: []string{"iam:CreateUser", "iam:ListUsers"},
				PolicyInputList:                    []string{allow("iam:ListUsers", "*", "")},
				PermissionsBoundaryPolicyInputList: []string{allow("iam:ListUsers", "*", "")}},
			want: map[string]simOutcome{
				"iam:CreateUser": {decision: types.PolicyEvaluationDecisionTypeImplicitDeny, ids: []string{"p"}, kinds: []types.PolicySourceType{"user"}, boundary: &no},
				"iam:ListUsers": {decision: types.PolicyEvaluationDecisionTypeAllowed, ids: []string{"PolicyInputList.1", "PermissionsBoundaryPolicyInputList.1"},
					kinds: []types.PolicySourceType{"", ""}, boundary: &yes},
			},
		},
		{
			name: "role",
			in:   iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(roleARN), ActionNames: []string{"iam:ListUsers", "iam:CreateUser"}},
			want: map[string]simOutcome{
				"iam:ListUsers":  {decision: types.PolicyEvaluationDecisionTypeAllowed, ids: []string{"rp"}, kinds: []types.PolicySourceType{"role"}},
				"iam:CreateUser": {decision: types.PolicyEvaluationDecisionTypeImplicitDeny},
			},
		},
		{
			name: "group alone",
			in: iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(groupARN), ActionNames: []string{"iam:ListGroups", "iam:CreateUser"}, ResourceArns: []string{groupARN},
				ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:username"), ContextKeyValues: []string{"devs"}, ContextKeyType: types.ContextKeyTypeEnumString}}},
			want: map[string]simOutcome{
				"iam:ListGroups": {decision: types.PolicyEvaluationDecisionTypeAllowed, ids: []string{"grp"}, kinds: []types.PolicySourceType{"group"}},
				"iam:CreateUser": {decision: types.PolicyEvaluationDecisionTypeImplicitDeny},
			},
		},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			out, err := f.svc.SimulatePrincipalPolicy(f.root, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := simOutcomes(out.EvaluationResults)
			if len(got) != len(tc.want) {
				t.Fatalf("%d results, want %d", len(got), len(tc.want))
			}
			for action, w := range tc.want {
				g := got[action]
				if g.decision != w.decision || !equalStrings(g.ids, w.ids) || !equalKinds(g.kinds, w.kinds) ||
					(g.boundary == nil) != (w.boundary == nil) || (g.boundary != nil && *g.boundary != *w.boundary) ||
					(w.missing != nil && !equalStrings(g.missing, w.missing)) {
					t.Errorf("%s:\n got %+v (boundary %v)\nwant %+v (boundary %v)", action, g, deref(g.boundary), w, deref(w.boundary))
				}
			}
		})
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalKinds(a, b []types.PolicySourceType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSimulatePrincipalPolicyPages(t *testing.T) {
	t.Parallel()
	f, aliceARN := simPrincipalFixture(t)
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN), ActionNames: []string{"iam:CreateUser", "iam:GetUser", "iam:ListUsers"}, MaxItems: aws.Int32(2)}
	first, err := f.svc.SimulatePrincipalPolicy(f.root, in)
	f.must(err)
	if !first.IsTruncated || first.Marker == nil || len(first.EvaluationResults) != 2 {
		t.Fatalf("first page: truncated %v, %d results", first.IsTruncated, len(first.EvaluationResults))
	}
	in.Marker = first.Marker
	second, err := f.svc.SimulatePrincipalPolicy(f.root, in)
	f.must(err)
	if second.IsTruncated || len(second.EvaluationResults) != 1 || *second.EvaluationResults[0].EvalActionName != "iam:ListUsers" {
		t.Fatalf("second page: truncated %v, %+v", second.IsTruncated, second.EvaluationResults)
	}
}

func TestSimulatePrincipalPolicyErrors(t *testing.T) {
	t.Parallel()
	f, aliceARN := simPrincipalFixture(t)
	acct := f.account
	for _, tc := range []struct {
		name     string
		in       iam.SimulatePrincipalPolicyInput
		wantCode string
		wantMsg  string
	}{
		{"missing user", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":user/ghost"), ActionNames: []string{"iam:GetUser"}},
			"NoSuchEntity", "The user with name ghost cannot be found."},
		{"wrong path", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":user/alice"), ActionNames: []string{"iam:GetUser"}},
			"NoSuchEntity", "The user with name alice cannot be found."},
		{"missing role", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":role/nope"), ActionNames: []string{"iam:GetUser"}},
			"NoSuchEntity", "The role with name nope cannot be found."},
		{"another account", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::999999999999:user/eng/alice"), ActionNames: []string{"iam:GetUser"}},
			"NoSuchEntity", ""},
		{"not an entity", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":policy/p"), ActionNames: []string{"iam:GetUser"}},
			"InvalidInput", ""},
		{"wildcard action", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN), ActionNames: []string{"iam:*"}}, "InvalidInput", ""},
		{"malformed input policy", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN), ActionNames: []string{"iam:GetUser"}, PolicyInputList: []string{"{"}}, "InvalidInput", ""},
		{"resource policy for a role without CallerArn", iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":role/app/worker"), ActionNames: []string{"iam:GetUser"},
			ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)}, "InvalidInput", ""},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			_, err := f.svc.SimulatePrincipalPolicy(f.root, &tc.in)
			if got := azCode(err); got != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tc.wantCode)
			}
			if tc.wantMsg != "" && azMessage(err) != tc.wantMsg {
				t.Errorf("message %q, want %q", azMessage(err), tc.wantMsg)
			}
		})
	}
}

func TestGetContextKeysForPrincipalPolicy(t *testing.T) {
	t.Parallel()
	f, aliceARN := simPrincipalFixture(t)
	for _, tc := range []struct {
		name string
		in   iam.GetContextKeysForPrincipalPolicyInput
		want []string
	}{
		{"user with its group", iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN)}, []string{"aws:SourceIp", "aws:username"}},
		{"with an input policy", iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String(aliceARN),
			PolicyInputList: []string{allow("s3:GetObject", "*", `{"StringEquals":{"s3:prefix":"home/"}}`)}}, []string{"aws:SourceIp", "aws:username", "s3:prefix"}},
		{"role without conditions", iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + f.account + ":role/app/worker")}, []string{}},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			out, err := f.svc.GetContextKeysForPrincipalPolicy(f.root, &tc.in)
			f.must(err)
			if out.ContextKeyNames == nil || !equalStrings(out.ContextKeyNames, tc.want) {
				t.Errorf("keys %v, want %v", out.ContextKeyNames, tc.want)
			}
		})
	}
}
