package iam

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
)

func (s *Service) organizationOperations() []operation {
	return []operation{
		{"ListOrganizationsFeatures", awsquery.Handle(s.ListOrganizationsFeatures)},
	}
}

// ListOrganizationsFeatures lists the centralized root access features of the caller's
// organization. Gatehouse accounts belong to no AWS Organizations organization, so it answers
// as AWS does for such an account: OrganizationNotFoundException, with the text of the IAM
// API Reference.
func (s *Service) ListOrganizationsFeatures(context.Context, *iam.ListOrganizationsFeaturesInput) (*iam.ListOrganizationsFeaturesOutput, error) {
	return nil, awsquery.Errorf(http.StatusBadRequest, "OrganizationNotFoundException", "The request was rejected because no organization is associated with your account.")
}
