package policy_test

import (
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/policy"
)

func Example() {
	p, err := policy.Parse([]byte(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "OwnKeys", "Effect": "Allow", "Action": "iam:*AccessKey*",
     "Resource": "arn:aws:iam::111122223333:user/${aws:username}"},
    {"Sid": "NoTLSNoAccess", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
  ]
}`), policy.Identity)
	if err != nil {
		panic(err)
	}
	ctx := &policy.Context{}
	ctx.Set("aws:username", "alice")
	ctx.Set("aws:SecureTransport", "true")
	r := p.Evaluate(&policy.Request{
		Action:   "iam:CreateAccessKey",
		Resource: "arn:aws:iam::111122223333:user/alice",
		Context:  ctx,
	})
	fmt.Println(r.Decision, r.Matches[0].Sid, r.Matches[0].Start)
	// Output: Allowed OwnKeys 4:5
}

func ExampleParse_malformed() {
	_, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject"}}`), policy.Identity)
	var pe *policy.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Message)
	}
	// Output: Policy statement must contain resources.
}

func ExampleNewSet() {
	boundary := policy.MustParse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, policy.Identity)
	guard := policy.MustParse(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}}`, policy.Identity)
	set := policy.NewSet(boundary, guard)
	for _, action := range []string{"s3:GetObject", "s3:DeleteBucket", "ec2:RunInstances"} {
		fmt.Println(action, set.Decide(&policy.Request{Action: action, Resource: "arn:aws:s3:::b"}))
	}
	// Output:
	// s3:GetObject Allowed
	// s3:DeleteBucket Denied
	// ec2:RunInstances NotApplicable
}
