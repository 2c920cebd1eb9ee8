package sts

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
)

// unsupported is every STS operation of the model that Gatehouse declines, with its answer:
// after input validation and authorization, an error naming the operation and why it is not
// offered, with AWS's own code for the state a Gatehouse account is always in where AWS has
// one (internal/iam/unsupported.go declines IAM's).
var unsupported = []struct {
	op       string
	newInput func() any
	answer   awsquery.Declined
}{
	// "Returns a set of short term credentials you can use to perform privileged tasks on a
	// member account in your organization" (STS API Reference, AssumeRoot).
	{"AssumeRoot", newOf[sts.AssumeRootInput], awsquery.Declined{Code: "NotImplemented", Status: http.StatusNotImplemented,
		Reason: "it starts privileged sessions on member accounts of an AWS Organizations organization with centralized root access, and Gatehouse does not provide AWS Organizations"}},
	// "Exchanges a trade-in token for temporary Amazon Web Services credentials" of an
	// accepted delegation request (STS API Reference, GetDelegatedAccessToken).
	{"GetDelegatedAccessToken", newOf[sts.GetDelegatedAccessTokenInput], awsquery.Declined{Code: "NotImplemented", Status: http.StatusNotImplemented,
		Reason: "its trade-in tokens come from IAM delegation requests: " + iam.ReasonDelegation}},
	// OutboundWebIdentityFederationDisabledException (403): "The outbound web identity
	// federation feature is not enabled for this account" (STS API Reference,
	// GetWebIdentityToken).
	{"GetWebIdentityToken", newOf[sts.GetWebIdentityTokenInput], awsquery.Declined{Code: "OutboundWebIdentityFederationDisabledException", Status: http.StatusForbidden,
		Reason: iam.ReasonOutboundFederation}},
}

// newOf makes a fresh input struct of type T for validation.
func newOf[T any]() any { return new(T) }

func declineUnsupported(svc *awsquery.Service) error {
	for _, u := range unsupported {
		if err := svc.Decline(u.op, u.newInput, u.answer); err != nil {
			return err
		}
	}
	return nil
}
