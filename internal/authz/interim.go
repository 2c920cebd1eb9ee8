package authz

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// Authorizer decides one request.
type Authorizer interface {
	// Authorize returns nil when p may perform action (e.g. "iam:CreateUser"), else an
	// AccessDenied *awsquery.Error.
	Authorize(ctx context.Context, p *principal.Principal, action string) error
}

// DenyByDefault is the interim Authorizer until enforcement lands: the root user may call
// everything, IAM users only sts:GetCallerIdentity.
type DenyByDefault struct{}

// Authorize implements Authorizer.
func (DenyByDefault) Authorize(_ context.Context, p *principal.Principal, action string) error {
	// GetCallerIdentity is the one action AWS allows without any policy.
	if p.Type == principal.Root || action == "sts:GetCallerIdentity" {
		return nil
	}
	return awsquery.AccessDenied("%s", deniedMessage(p, action))
}

func deniedMessage(p *principal.Principal, action string) string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", p.ARN, action, action)
}
