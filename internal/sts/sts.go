// Package sts implements the STS API operations. GetCallerIdentity is served now; the
// temporary-credential operations come with the STS issue and answer NotImplemented until then.
package sts

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// Service holds the STS handlers.
type Service struct{}

// New returns the STS service.
func New() *Service { return &Service{} }

// Register adds the implemented STS operations to svc.
func (s *Service) Register(svc *awsquery.Service) error {
	return svc.Register("GetCallerIdentity", awsquery.Handle(s.GetCallerIdentity))
}

// GetCallerIdentity tells who signed the request; it never needs a policy.
func (s *Service) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
	p := principal.FromContext(ctx)
	return &sts.GetCallerIdentityOutput{
		Account: aws.String(p.Account),
		Arn:     aws.String(p.ARN),
		UserId:  aws.String(p.UserID),
	}, nil
}
