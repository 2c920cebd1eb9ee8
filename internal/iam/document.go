package iam

import (
	"errors"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// The kinds of policy document IAM parameters hold; AWS validates each differently.
const (
	docIdentity = policy.Identity // managed and inline identity-based policies, boundaries
	docTrust    = policy.Trust    // a role's assume-role (trust) policy
)

// Size quotas of IAM policy documents, in characters, not counting white space (AWS IAM quotas).
const (
	maxManagedPolicySize     = 6144
	maxUserInlinePolicySize  = 2048  // aggregate of a user's inline policies
	maxGroupInlinePolicySize = 5120  // aggregate of a group's inline policies
	maxRoleInlinePolicySize  = 10240 // aggregate of a role's inline policies
	maxTrustPolicySize       = 2048
)

// policySize counts a document's characters as IAM's quotas do.
func policySize(doc string) int { return policy.Size([]byte(doc)) }

// validateDocument answers MalformedPolicyDocument, with AWS's message, for a document that is
// not a valid policy of type t. The caller checks size quotas, which depend on the entity.
func validateDocument(doc string, t policy.Type) error {
	_, err := policy.Parse([]byte(doc), t)
	var pe *policy.Error
	if errors.As(err, &pe) {
		return awsquery.MalformedPolicyDocument("%s", pe.Message)
	}
	return err
}
