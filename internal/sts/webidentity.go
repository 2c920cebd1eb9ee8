package sts

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
)

type oidcKeys struct{}

func newOIDCKeys(_ *http.Client, _ any) *oidcKeys { return &oidcKeys{} }

// AssumeRoleWithWebIdentity is being written.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return nil, awsquery.NotImplemented("STS", "AssumeRoleWithWebIdentity")
}

// AssumeRoleWithSAML is being written.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, in *sts.AssumeRoleWithSAMLInput) (*sts.AssumeRoleWithSAMLOutput, error) {
	return nil, awsquery.NotImplemented("STS", "AssumeRoleWithSAML")
}
