package server

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// TestDenialReason reads the reason out of AccessDenied messages as authz.DeniedMessage builds
// them (AWS's wording, quoted in internal/iam/authorize_test.go) and the other AccessDenied
// messages, leaving out the encoded authorization message.
func TestDenialReason(t *testing.T) {
	t.Parallel()
	user := &authz.Caller{Type: authz.User}
	user.ARN = "arn:aws:iam::123456789012:user/bob"
	msg := func(action string, d authz.Decision, by authz.PolicyType) string {
		return authz.DeniedMessage(&authz.Request{Caller: user, Action: action, Resource: "arn:aws:iam::123456789012:user/eve"}, authz.Result{Decision: d, DeniedBy: by})
	}
	trust := msg("sts:AssumeRole", authz.ImplicitDeny, authz.ResourcePolicy)
	for _, tc := range []struct{ msg, want string }{
		{msg("iam:CreateUser", authz.ImplicitDeny, authz.IdentityPolicy), "no identity-based policy allows the iam:CreateUser action"},
		{msg("iam:CreateUser", authz.ImplicitDeny, authz.BoundaryPolicy), "no permissions boundary allows the iam:CreateUser action"},
		{msg("iam:DeleteUser", authz.ExplicitDeny, authz.IdentityPolicy), "explicit deny in an identity-based policy"},
		{msg("iam:DeleteUser", authz.ExplicitDeny, authz.IdentityPolicy) + " Encoded authorization failure message: c2VhbGVk", "explicit deny in an identity-based policy"},
		{msg("iam:DeleteUser", authz.ImplicitDeny, authz.IdentityPolicy) + " Encoded authorization failure message: c2VhbGVk because x", "no identity-based policy allows the iam:DeleteUser action"},
		// AWS says nothing of why a trust policy refused: the whole message is the reason.
		{trust, trust},
		{"Cannot call GetSessionToken with session credentials", "Cannot call GetSessionToken with session credentials"},
	} {
		if got := denialReason(tc.msg); got != tc.want {
			t.Errorf("denialReason(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}
