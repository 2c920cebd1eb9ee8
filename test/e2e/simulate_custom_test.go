package e2e

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// The simulator's behaviour pinned here comes from the IAM API Reference for
// SimulateCustomPolicy and GetContextKeysForCustomPolicy (parameters, EvaluationResult,
// pagination, InvalidInput) and from the AWS CLI reference examples for
// simulate-custom-policy, whose output (decision, SourcePolicyId "PolicyInputList.1",
// positions 1:38 to 1:167) is reproduced exactly.

func simErrCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode()
}

func TestSimulateCustomPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const cliExample = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`

	t.Run("case=CLI example allowed", func(t *testing.T) {
		out, err := e.IAM.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{cliExample}, ActionNames: []string{"dynamodb:CreateBackup"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyValues: []string{"2019-04-25T11:00:00Z"}, ContextKeyType: types.ContextKeyTypeEnumDate}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.EvaluationResults) != 1 {
			t.Fatalf("%d results", len(out.EvaluationResults))
		}
		r := out.EvaluationResults[0]
		if r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || aws.ToString(r.EvalResourceName) != "*" || len(r.MatchedStatements) != 1 {
			t.Fatalf("result %+v", r)
		}
		m := r.MatchedStatements[0]
		if aws.ToString(m.SourcePolicyId) != "PolicyInputList.1" || *m.StartPosition != (types.Position{Line: 1, Column: 38}) || *m.EndPosition != (types.Position{Line: 1, Column: 167}) {
			t.Fatalf("statement %s %+v-%+v", aws.ToString(m.SourcePolicyId), *m.StartPosition, *m.EndPosition)
		}
	})
	t.Run("case=CLI example denied", func(t *testing.T) {
		out, err := e.IAM.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{cliExample}, ActionNames: []string{"dynamodb:CreateBackup"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyValues: []string{"2014-04-25T11:00:00Z"}, ContextKeyType: types.ContextKeyTypeEnumDate}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if r := out.EvaluationResults[0]; r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny || len(r.MatchedStatements) != 0 {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("case=explicit deny, boundary and missing keys", func(t *testing.T) {
		out, err := e.IAM.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`,
			},
			PermissionsBoundaryPolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:DeleteBucket"],"Resource":"*"}]}`},
			ActionNames:                        []string{"s3:GetObject", "s3:PutObject", "s3:DeleteBucket"},
			ResourceArns:                       []string{"arn:aws:s3:::b"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]types.PolicyEvaluationDecisionType{"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny", "s3:DeleteBucket": "allowed"}
		for _, r := range out.EvaluationResults {
			a := aws.ToString(r.EvalActionName)
			if r.EvalDecision != want[a] {
				t.Errorf("%s: %s, want %s", a, r.EvalDecision, want[a])
			}
			if r.PermissionsBoundaryDecisionDetail == nil || r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary != (a != "s3:PutObject") {
				t.Errorf("%s: boundary detail %+v", a, r.PermissionsBoundaryDecisionDetail)
			}
			if len(r.ResourceSpecificResults) != 1 || aws.ToString(r.ResourceSpecificResults[0].EvalResourceName) != "arn:aws:s3:::b" {
				t.Errorf("%s: resource-specific results %+v", a, r.ResourceSpecificResults)
			}
			if a == "s3:DeleteBucket" && !slices.Equal(r.ResourceSpecificResults[0].MissingContextValues, []string{"aws:ResourceTag/env"}) {
				t.Errorf("DeleteBucket missing %q", r.ResourceSpecificResults[0].MissingContextValues)
			}
		}
		out, err = e.IAM.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`,
			},
			ActionNames:    []string{"s3:DeleteBucket"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:ResourceTag/env"), ContextKeyValues: []string{"prod"}, ContextKeyType: types.ContextKeyTypeEnumString}},
		})
		if err != nil {
			t.Fatal(err)
		}
		r := out.EvaluationResults[0]
		if r.EvalDecision != types.PolicyEvaluationDecisionTypeExplicitDeny || len(r.MatchedStatements) != 1 || aws.ToString(r.MatchedStatements[0].SourcePolicyId) != "PolicyInputList.2" {
			t.Fatalf("explicit deny result %+v", r)
		}
	})
	t.Run("case=cross-account resource policy", func(t *testing.T) {
		out, err := e.IAM.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`},
			ActionNames:     []string{"sqs:SendMessage", "sqs:DeleteQueue"},
			ResourceArns:    []string{"arn:aws:sqs:us-east-1:444455556666:q"},
			ResourcePolicy:  aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + e.Account + `"},"Action":"sqs:SendMessage","Resource":"*"}]}`),
			ResourceOwner:   aws.String("arn:aws:iam::444455556666:root"),
			CallerArn:       aws.String("arn:aws:iam::" + e.Account + ":user/alice"),
		})
		if err != nil {
			t.Fatal(err)
		}
		send, del := out.EvaluationResults[0], out.EvaluationResults[1]
		if send.EvalDecision != "allowed" || del.EvalDecision != "implicitDeny" {
			t.Fatalf("SendMessage %s, DeleteQueue %s", send.EvalDecision, del.EvalDecision)
		}
		if send.EvalDecisionDetails["Resource Policy"] != "allowed" || del.EvalDecisionDetails["Resource Policy"] != "implicitDeny" || del.EvalDecisionDetails["IAM Policy"] != "allowed" {
			t.Fatalf("details %v / %v", send.EvalDecisionDetails, del.EvalDecisionDetails)
		}
	})
	t.Run("case=pagination", func(t *testing.T) {
		in := &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`},
			ActionNames:     []string{"ec2:DescribeInstances", "ec2:RunInstances", "ec2:DescribeVpcs"},
			ResourceArns:    []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-1", "arn:aws:ec2:us-east-1:111122223333:instance/i-2"},
		}
		var got []string
		p := iam.NewSimulateCustomPolicyPaginator(e.IAM, in, func(o *iam.SimulateCustomPolicyPaginatorOptions) { o.Limit = 4 })
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, r := range out.EvaluationResults {
				got = append(got, aws.ToString(r.EvalActionName)+"@"+aws.ToString(r.EvalResourceName)[len(aws.ToString(r.EvalResourceName))-3:]+"="+string(r.EvalDecision))
			}
		}
		want := []string{"ec2:DescribeInstances@i-1=allowed", "ec2:DescribeInstances@i-2=allowed", "ec2:RunInstances@i-1=implicitDeny",
			"ec2:RunInstances@i-2=implicitDeny", "ec2:DescribeVpcs@i-1=allowed", "ec2:DescribeVpcs@i-2=allowed"}
		if pages != 2 || !slices.Equal(got, want) {
			t.Fatalf("%d pages: %q", pages, got)
		}
	})
	t.Run("case=errors", func(t *testing.T) {
		for name, in := range map[string]*iam.SimulateCustomPolicyInput{
			"malformed policy": {PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`}, ActionNames: []string{"s3:GetObject"}},
			"resource policy without CallerArn": {PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
				ActionNames: []string{"s3:GetObject"}, ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)},
			"role as CallerArn": {PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
				ActionNames: []string{"s3:GetObject"}, CallerArn: aws.String("arn:aws:iam::" + e.Account + ":role/r")},
		} {
			if _, err := e.IAM.SimulateCustomPolicy(ctx, in); simErrCode(t, err) != "InvalidInput" {
				t.Errorf("%s: %v, want InvalidInput", name, err)
			}
		}
	})
}

func TestGetContextKeysForCustomPolicy(t *testing.T) {
	e := newEnv(t)
	out, err := e.IAM.GetContextKeysForCustomPolicy(context.Background(), &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aws:CurrentTime", "aws:MultiFactorAuthPresent", "aws:username"}
	if !slices.Equal(out.ContextKeyNames, want) {
		t.Fatalf("keys %q, want %q", out.ContextKeyNames, want)
	}
	_, err = e.IAM.GetContextKeysForCustomPolicy(context.Background(), &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{`not json`}})
	if simErrCode(t, err) != "InvalidInput" {
		t.Fatalf("malformed document: %v", err)
	}
}
