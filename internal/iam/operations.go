package iam

import "github.com/gatehouse-iam/gatehouse/internal/awsquery"

// operation pairs an IAM action name with its handler.
type operation struct {
	name string
	h    awsquery.Handler
}
