package iam

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// simCtx is a request context in which the root user of account 111122223333 calls. The
// simulator reads nothing from the store, so the Service needs none of its dependencies.
func simCtx() context.Context {
	return principal.NewContext(context.Background(), &principal.Principal{
		Type: principal.Root, Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", UserID: "111122223333"})
}

func simErrCode(err error) string {
	if e := awsquery.AsError(err); e != nil {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// The two examples of the AWS CLI reference for simulate-custom-policy, with their outputs.
const cliExamplePolicy = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`

func TestSimulateCustomPolicyCLIExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		now     string
		want    types.PolicyEvaluationDecisionType
		matched []types.Statement
	}{
		{"after the date", "2019-04-25T11:00:00Z", types.PolicyEvaluationDecisionTypeAllowed, []types.Statement{{
			SourcePolicyId: aws.String("PolicyInputList.1"),
			StartPosition:  &types.Position{Line: 1, Column: 38},
			EndPosition:    &types.Position{Line: 1, Column: 167},
		}}},
		{"before the date", "2014-04-25T11:00:00Z", types.PolicyEvaluationDecisionTypeImplicitDeny, []types.Statement{}},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := (&Service{}).SimulateCustomPolicy(simCtx(), &iam.SimulateCustomPolicyInput{
				PolicyInputList: []string{cliExamplePolicy},
				ActionNames:     []string{"dynamodb:CreateBackup"},
				ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"),
					ContextKeyValues: []string{tt.now}, ContextKeyType: types.ContextKeyTypeEnumDate}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.EvaluationResults) != 1 || out.IsTruncated {
				t.Fatalf("got %d results (truncated %v)", len(out.EvaluationResults), out.IsTruncated)
			}
			r := out.EvaluationResults[0]
			if aws.ToString(r.EvalActionName) != "dynamodb:CreateBackup" || aws.ToString(r.EvalResourceName) != "*" || r.EvalDecision != tt.want {
				t.Fatalf("result %s on %s = %s, want %s", aws.ToString(r.EvalActionName), aws.ToString(r.EvalResourceName), r.EvalDecision, tt.want)
			}
			if len(r.MatchedStatements) != len(tt.matched) {
				t.Fatalf("matched %d statements, want %d", len(r.MatchedStatements), len(tt.matched))
			}
			for i, m := range r.MatchedStatements {
				w := tt.matched[i]
				if aws.ToString(m.SourcePolicyId) != aws.ToString(w.SourcePolicyId) || *m.StartPosition != *w.StartPosition || *m.EndPosition != *w.EndPosition || m.SourcePolicyType != "" {
					t.Errorf("statement %s %+v-%+v type %q, want %s %+v-%+v", aws.ToString(m.SourcePolicyId), *m.StartPosition, *m.EndPosition, m.SourcePolicyType,
						aws.ToString(w.SourcePolicyId), *w.StartPosition, *w.EndPosition)
				}
			}
			if r.MissingContextValues == nil || len(r.MissingContextValues) != 0 {
				t.Errorf("MissingContextValues = %#v, want []", r.MissingContextValues)
			}
			if r.EvalDecisionDetails != nil {
				t.Errorf("EvalDecisionDetails = %v, want none for resource *", r.EvalDecisionDetails)
			}
		})
	}
}

func TestSimulateCustomPolicyPagination(t *testing.T) {
	t.Parallel()
	in := &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`},
		ActionNames:     []string{"s3:GetObject", "s3:PutObject", "s3:GetObjectAcl"},
		ResourceArns:    []string{"arn:aws:s3:::b/1", "arn:aws:s3:::b/2"},
		MaxItems:        aws.Int32(4),
	}
	var got []string
	for page := 0; ; page++ {
		out, err := (&Service{}).SimulateCustomPolicy(simCtx(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.EvaluationResults {
			got = append(got, aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)+" "+string(r.EvalDecision))
			if len(r.ResourceSpecificResults) != 1 || aws.ToString(r.ResourceSpecificResults[0].EvalResourceName) != aws.ToString(r.EvalResourceName) ||
				r.ResourceSpecificResults[0].EvalResourceDecision != r.EvalDecision {
				t.Errorf("ResourceSpecificResults %+v do not match the result", r.ResourceSpecificResults)
			}
			if r.EvalDecisionDetails == nil || len(r.EvalDecisionDetails) != 0 {
				t.Errorf("EvalDecisionDetails = %v, want present and empty (same account, resource ARN)", r.EvalDecisionDetails)
			}
		}
		if page == 0 && (!out.IsTruncated || out.Marker == nil || len(out.EvaluationResults) != 4) {
			t.Fatalf("first page: %d results, truncated %v", len(out.EvaluationResults), out.IsTruncated)
		}
		if !out.IsTruncated {
			if out.Marker != nil {
				t.Errorf("last page has a marker")
			}
			break
		}
		in.Marker = out.Marker
	}
	want := []string{
		"s3:GetObject arn:aws:s3:::b/1 allowed", "s3:GetObject arn:aws:s3:::b/2 allowed",
		"s3:PutObject arn:aws:s3:::b/1 implicitDeny", "s3:PutObject arn:aws:s3:::b/2 implicitDeny",
		"s3:GetObjectAcl arn:aws:s3:::b/1 allowed", "s3:GetObjectAcl arn:aws:s3:::b/2 allowed",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("results\n%q\nwant\n%q", got, want)
	}
	in.Marker = aws.String("not-a-marker!")
	// ValidationError "Invalid Marker.", as for IAM's other lists.
	if _, err := (&Service{}).SimulateCustomPolicy(simCtx(), in); simErrCode(err) != "ValidationError" {
		t.Fatalf("bad marker: %v", err)
	}
}

func TestSimulateCustomPolicyDetails(t *testing.T) {
	t.Parallel()
	const (
		allowS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
		onlyEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`
		bucket  = `{"Version":"2012-10-17","Statement":[{"Sid":"Share","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`
	)
	t.Run("case=boundary denies", func(t *testing.T) {
		t.Parallel()
		out, err := (&Service{}).SimulateCustomPolicy(simCtx(), &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{allowS3}, PermissionsBoundaryPolicyInputList: []string{onlyEC2},
			ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"},
		})
		if err != nil {
			t.Fatal(err)
		}
		r := out.EvaluationResults[0]
		if r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny || r.PermissionsBoundaryDecisionDetail == nil ||
			r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
			t.Fatalf("decision %s, boundary detail %+v", r.EvalDecision, r.PermissionsBoundaryDecisionDetail)
		}
		rs := r.ResourceSpecificResults[0]
		if rs.PermissionsBoundaryDecisionDetail == nil || rs.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
			t.Fatalf("resource-specific boundary detail %+v", rs.PermissionsBoundaryDecisionDetail)
		}
	})
	t.Run("case=boundary allows", func(t *testing.T) {
		t.Parallel()
		out, err := (&Service{}).SimulateCustomPolicy(simCtx(), &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{allowS3}, PermissionsBoundaryPolicyInputList: []string{allowS3},
			ActionNames: []string{"s3:GetObject"},
		})
		if err != nil {
			t.Fatal(err)
		}
		r := out.EvaluationResults[0]
		if r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || !r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
			t.Fatalf("decision %s, boundary detail %+v", r.EvalDecision, r.PermissionsBoundaryDecisionDetail)
		}
		var ids []string
		for _, m := range r.MatchedStatements {
			ids = append(ids, aws.ToString(m.SourcePolicyId))
		}
		if !slices.Equal(ids, []string{"PolicyInputList.1", "PermissionsBoundaryPolicyInputList.1"}) {
			t.Fatalf("matched %q", ids)
		}
	})
	t.Run("case=cross-account resource policy", func(t *testing.T) {
		t.Parallel()
		in := &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{allowS3}, ActionNames: []string{"s3:GetObject", "s3:PutObject"},
			ResourceArns: []string{"arn:aws:s3:::shared/k"}, ResourcePolicy: aws.String(bucket),
			ResourceOwner: aws.String("arn:aws:iam::111122223333:root"), CallerArn: aws.String("arn:aws:iam::444455556666:user/bob"),
		}
		out, err := (&Service{}).SimulateCustomPolicy(simCtx(), in)
		if err != nil {
			t.Fatal(err)
		}
		get, put := out.EvaluationResults[0], out.EvaluationResults[1]
		if get.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || put.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
			t.Fatalf("GetObject %s, PutObject %s", get.EvalDecision, put.EvalDecision)
		}
		wantGet := map[string]types.PolicyEvaluationDecisionType{"IAM Policy": "allowed", "Resource Policy": "allowed"}
		wantPut := map[string]types.PolicyEvaluationDecisionType{"IAM Policy": "allowed", "Resource Policy": "implicitDeny"}
		if !mapsEqual(get.EvalDecisionDetails, wantGet) || !mapsEqual(put.EvalDecisionDetails, wantPut) {
			t.Fatalf("details GetObject %v, PutObject %v", get.EvalDecisionDetails, put.EvalDecisionDetails)
		}
		var resourceStmt bool
		for _, m := range get.MatchedStatements {
			if aws.ToString(m.SourcePolicyId) == "ResourcePolicy" && m.SourcePolicyType == types.PolicySourceTypeResource {
				resourceStmt = true
			}
		}
		if !resourceStmt {
			t.Fatalf("no matched statement from the resource policy: %+v", get.MatchedStatements)
		}
	})
	t.Run("case=missing context values per resource", func(t *testing.T) {
		t.Parallel()
		out, err := (&Service{}).SimulateCustomPolicy(simCtx(), &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"}}}]}`},
			ActionNames:     []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"},
		})
		if err != nil {
			t.Fatal(err)
		}
		r := out.EvaluationResults[0]
		if len(r.MissingContextValues) != 0 || !slices.Equal(r.ResourceSpecificResults[0].MissingContextValues, []string{"aws:PrincipalTag/team"}) {
			t.Fatalf("missing %q, resource-specific %q", r.MissingContextValues, r.ResourceSpecificResults[0].MissingContextValues)
		}
	})
}

func mapsEqual(a, b map[string]types.PolicyEvaluationDecisionType) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestSimulateCustomPolicyErrors(t *testing.T) {
	t.Parallel()
	const ok = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	tests := []struct {
		name string
		in   iam.SimulateCustomPolicyInput
	}{
		{"invalid policy", iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`}, ActionNames: []string{"s3:GetObject"}}},
		{"not JSON", iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{`}, ActionNames: []string{"s3:GetObject"}}},
		{"invalid boundary", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, PermissionsBoundaryPolicyInputList: []string{`[]`}, ActionNames: []string{"s3:GetObject"}}},
		{"wildcard action", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:Get*"}}},
		{"action without service", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"GetObject"}}},
		{"resource policy without caller", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)}},
		{"invalid resource policy", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			CallerArn: aws.String("arn:aws:iam::111122223333:user/a"), ResourcePolicy: aws.String(ok)}},
		{"caller is a role", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			CallerArn: aws.String("arn:aws:iam::111122223333:role/r")}},
		{"caller is a session", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			CallerArn: aws.String("arn:aws:sts::111122223333:assumed-role/r/s")}},
		{"owner is a user", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			ResourceOwner: aws.String("arn:aws:iam::111122223333:user/a")}},
		{"bad numeric context", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("s3:max-keys"), ContextKeyValues: []string{"ten"}, ContextKeyType: types.ContextKeyTypeEnumNumeric}}}},
		{"bad ip context", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyValues: []string{"300.1.1.1"}, ContextKeyType: types.ContextKeyTypeEnumIp}}}},
		{"two values for a scalar type", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:username"), ContextKeyValues: []string{"a", "b"}, ContextKeyType: types.ContextKeyTypeEnumString}}}},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := (&Service{}).SimulateCustomPolicy(simCtx(), &tt.in)
			if simErrCode(err) != "InvalidInput" {
				t.Fatalf("error %v, want InvalidInput", err)
			}
		})
	}
}

func TestSimulateContextEntryTypes(t *testing.T) {
	t.Parallel()
	// ForAnyValue over a stringList matches one of its values; a plain operator over a
	// single string value matches it.
	policyDoc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}},
		{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	out, err := (&Service{}).SimulateCustomPolicy(simCtx(), &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{policyDoc},
		ActionNames:     []string{"s3:GetObject", "s3:PutObject"},
		ContextEntries: []types.ContextEntry{
			{ContextKeyName: aws.String("aws:TagKeys"), ContextKeyValues: []string{"team", "env"}, ContextKeyType: types.ContextKeyTypeEnumStringList},
			{ContextKeyName: aws.String("s3:max-keys"), ContextKeyValues: []string{"5"}, ContextKeyType: types.ContextKeyTypeEnumNumeric},
			{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyValues: []string{"10.1.2.3"}, ContextKeyType: types.ContextKeyTypeEnumIp},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.EvaluationResults {
		if r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed {
			t.Errorf("%s: %s", aws.ToString(r.EvalActionName), r.EvalDecision)
		}
	}
}

func TestGetContextKeysForCustomPolicy(t *testing.T) {
	t.Parallel()
	out, err := (&Service{}).GetContextKeysForCustomPolicy(simCtx(), &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"AWS:SourceIP":"x","s3:prefix":"home/"}}}]}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aws:SourceIp", "aws:username", "s3:prefix"}
	if !slices.Equal(out.ContextKeyNames, want) {
		t.Fatalf("keys %q, want %q", out.ContextKeyNames, want)
	}
	_, err = (&Service{}).GetContextKeysForCustomPolicy(simCtx(), &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{`{"Statement":`}})
	if simErrCode(err) != "InvalidInput" {
		t.Fatalf("invalid document: %v", err)
	}
}
