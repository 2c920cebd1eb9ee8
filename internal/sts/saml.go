package sts

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
)

// AssumeRoleWithSAML answers NotImplemented until its assertion verification lands.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, in *sts.AssumeRoleWithSAMLInput) (*sts.AssumeRoleWithSAMLOutput, error) {
	return nil, awsquery.NotImplemented("STS", "AssumeRoleWithSAML")
}
