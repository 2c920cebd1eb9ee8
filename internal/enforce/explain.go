package enforce

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Explanation is a decision with its reasons, for the decision API.
type Explanation struct {
	Decision authz.Decision
	// Matched are the statements behind the decision (authz.Explain).
	Matched []authz.Matched
	// Missing are the context keys that statements needed and the request lacked.
	Missing []string
	// Message is AWS's AccessDenied text when the access is denied.
	Message string
}

// Explain decides acc for p as Decide does, with the statements and missing keys behind the
// decision. ctx carries the request facts of the global condition keys.
func (e *Enforcer) Explain(ctx context.Context, p *principal.Principal, acc Access) (*Explanation, error) {
	if acc.Resource == "" {
		acc.Resource = "*"
	}
	sameAccount := acc.ResourceAccount == "" || acc.ResourceAccount == p.Account
	if p.Type == principal.Root && sameAccount && acc.ResourcePolicy == nil {
		return &Explanation{Decision: authz.Allowed}, nil
	}
	gr, err := e.grantsFor(ctx, p)
	if err != nil {
		return nil, err
	}
	req := e.request(ctx, p, gr, &acc, true)
	res := authz.Explain(&req)
	out := &Explanation{Decision: res.Decision, Matched: res.Matched, Missing: res.Missing}
	if res.Decision != authz.Allowed && !(acc.AccountGrant && res.Decision == authz.ImplicitDeny) {
		out.Message = authz.DeniedMessage(&req, res)
	} else {
		out.Decision = authz.Allowed
	}
	return out, nil
}

// PrincipalByARN is the principal an ARN names, for questions about a principal rather than
// a signed request: the account's root user (arn:aws:iam::ACCOUNT:root), an IAM user, or an
// IAM role, which is asked about as a session of the role without session policies. The ARN
// binds in its exact spelling, path included, as policies bind principals.
func (e *Enforcer) PrincipalByARN(ctx context.Context, arn string) (*principal.Principal, error) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	account, resource, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || len(account) != 12 {
		return nil, awsquery.ValidationError("The principal %q is not the ARN of an IAM user, an IAM role or an account's root user.", arn)
	}
	if resource == "root" {
		return &principal.Principal{Type: principal.Root, Account: account, ARN: arn, UserID: account}, nil
	}
	kind, pathName, _ := strings.Cut(resource, "/")
	name := pathName[strings.LastIndexByte(pathName, '/')+1:]
	var p *principal.Principal
	err := e.view(ctx, func(ctx context.Context, tx store.Tx) error {
		switch kind {
		case "user":
			u, err := store.Load[store.User](ctx, tx, store.KindUser, account, store.NameKey(name))
			if err != nil {
				return err
			}
			if entity.UserARN(account, u) == arn {
				p = &principal.Principal{Type: principal.User, Account: account, ARN: arn, UserID: u.ID, UserName: u.Name}
			}
		case "role":
			r, err := store.Load[store.Role](ctx, tx, store.KindRole, account, store.NameKey(name))
			if err != nil {
				return err
			}
			if entity.RoleARN(account, r) == arn {
				const session = "gatehouse-decision"
				p = &principal.Principal{Type: principal.AssumedRole, Account: account,
					ARN: "arn:aws:sts::" + account + ":assumed-role/" + r.Name + "/" + session, UserID: r.ID + ":" + session,
					Session: &principal.Session{RoleID: r.ID, RoleARN: arn, RoleName: r.Name, SessionName: session}}
			}
		}
		return nil
	})
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("look up principal: %w", err)
	}
	if p == nil {
		return nil, awsquery.NoSuchEntity("The principal %s cannot be found.", arn)
	}
	return p, nil
}
