package iam

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
)

// Why Gatehouse does not offer some IAM and STS operations. Each is answered, after input
// validation and authorization, with an error naming the operation and the reason: AWS's own
// error for the state a Gatehouse account is always in where AWS has one, NotImplemented
// otherwise (internal/sts declines STS's with the reasons exported here).
const (
	// ReasonDelegation: temporary access delegation (IAM User Guide, "Temporary delegation"):
	// AWS Partners, onboarded by AWS, create requests; IAM sends the tokens through the
	// partner's channel, and STS GetDelegatedAccessToken exchanges them.
	ReasonDelegation    = "temporary access delegation serves AWS Partners onboarded by AWS and delivers its tokens through their Amazon SNS notification channel, which Gatehouse does not provide"
	reasonOrganizations = "it needs AWS Organizations, which Gatehouse does not provide"
	// ReasonOutboundFederation: IAM hosts an issuer URL with the OpenID Connect discovery
	// document and the JWKS that external services fetch to verify STS GetWebIdentityToken's
	// tokens.
	ReasonOutboundFederation = "outbound identity federation needs a public OpenID Connect issuer URL for the account serving the discovery document and signing keys, which Gatehouse does not serve; it is always disabled"
	reasonSummary            = "it summarizes delegation requests, which Gatehouse does not offer (" + ReasonDelegation + ")"
)

var (
	notImplemented = awsquery.Declined{Code: "NotImplemented", Status: http.StatusNotImplemented}
	// OrganizationNotFoundException: "The request was rejected because no organization is
	// associated with your account." (IAM API Reference, the Organizations root access
	// operations; the model gives it no other code, and the reference HTTP 400).
	noOrganization = awsquery.Declined{Code: "OrganizationNotFoundException", Status: http.StatusBadRequest}
	// FeatureDisabled (404): "outbound identity federation is already disabled for your
	// account" (IAM API Reference, DisableOutboundWebIdentityFederation and
	// GetOutboundWebIdentityFederationInfo).
	featureDisabled = awsquery.Declined{Code: "FeatureDisabled", Status: http.StatusNotFound}
)

// unsupported is every IAM operation of the model that Gatehouse declines, with its answer.
var unsupported = []struct {
	op       string
	newInput func() any
	answer   awsquery.Declined
	reason   string
}{
	{"AcceptDelegationRequest", newOf[iam.AcceptDelegationRequestInput], notImplemented, ReasonDelegation},
	{"AssociateDelegationRequest", newOf[iam.AssociateDelegationRequestInput], notImplemented, ReasonDelegation},
	{"CreateDelegationRequest", newOf[iam.CreateDelegationRequestInput], notImplemented, ReasonDelegation},
	{"GetDelegationRequest", newOf[iam.GetDelegationRequestInput], notImplemented, ReasonDelegation},
	{"ListDelegationRequests", newOf[iam.ListDelegationRequestsInput], notImplemented, ReasonDelegation},
	{"RejectDelegationRequest", newOf[iam.RejectDelegationRequestInput], notImplemented, ReasonDelegation},
	{"SendDelegationToken", newOf[iam.SendDelegationTokenInput], notImplemented, ReasonDelegation},
	{"UpdateDelegationRequest", newOf[iam.UpdateDelegationRequestInput], notImplemented, ReasonDelegation},
	{"GetHumanReadableSummary", newOf[iam.GetHumanReadableSummaryInput], notImplemented, reasonSummary},

	{"EnableOrganizationsRootCredentialsManagement", newOf[iam.EnableOrganizationsRootCredentialsManagementInput], noOrganization, reasonOrganizations},
	{"DisableOrganizationsRootCredentialsManagement", newOf[iam.DisableOrganizationsRootCredentialsManagementInput], noOrganization, reasonOrganizations},
	{"EnableOrganizationsRootSessions", newOf[iam.EnableOrganizationsRootSessionsInput], noOrganization, reasonOrganizations},
	{"DisableOrganizationsRootSessions", newOf[iam.DisableOrganizationsRootSessionsInput], noOrganization, reasonOrganizations},
	{"GenerateOrganizationsAccessReport", newOf[iam.GenerateOrganizationsAccessReportInput], notImplemented, reasonOrganizations},
	{"GetOrganizationsAccessReport", newOf[iam.GetOrganizationsAccessReportInput], notImplemented, reasonOrganizations},

	{"EnableOutboundWebIdentityFederation", newOf[iam.EnableOutboundWebIdentityFederationInput], notImplemented, ReasonOutboundFederation},
	{"DisableOutboundWebIdentityFederation", newOf[iam.DisableOutboundWebIdentityFederationInput], featureDisabled, ReasonOutboundFederation},
	{"GetOutboundWebIdentityFederationInfo", newOf[iam.GetOutboundWebIdentityFederationInfoInput], featureDisabled, ReasonOutboundFederation},
}

// newOf makes a fresh input struct of type T for validation.
func newOf[T any]() any { return new(T) }

// declineUnsupported registers the answers of the operations Gatehouse does not offer.
func declineUnsupported(svc *awsquery.Service) error {
	for _, u := range unsupported {
		d := u.answer
		d.Reason = u.reason
		if err := svc.Decline(u.op, u.newInput, d); err != nil {
			return err
		}
	}
	return nil
}
