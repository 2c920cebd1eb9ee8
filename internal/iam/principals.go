package iam

import (
	"context"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Resource-based policies (role trust policies today) name users and roles by unique id, as
// AWS stores them: "When you save the policy, AWS transforms the ARN to a unique principal ID
// ... if you delete the role or user, then the relationship is broken. The policy no longer
// applies, even if you recreate the user or role" (IAM User Guide, "Role trust policy
// examples"). Reading the policy shows the principal's current ARN again, or the bare id once
// the principal is gone. Account ids, root ARNs, session ARNs, services, identity providers
// and "*" stay as written.

// bindPrincipals returns doc with the IAM users and roles its Principal and NotPrincipal
// elements name (by ARN or by unique id) replaced by their unique ids. One that does not exist
// in this deployment is MalformedPolicyDocument "Invalid principal in policy", AWS's answer.
// doc must already be a valid policy.
func bindPrincipals(ctx context.Context, tx store.Tx, doc string) (string, error) {
	return rebindPrincipals(ctx, tx, doc, func(_ store.Kind, v string) (string, error) { return "", invalidPrincipal(v) })
}

// rebindPrincipals is bindPrincipals with missing deciding what a user or role that does not
// exist becomes.
func rebindPrincipals(ctx context.Context, tx store.Tx, doc string, missing func(kind store.Kind, v string) (string, error)) (string, error) {
	out, err := policy.RewritePrincipals([]byte(doc), func(v string) (string, error) {
		kind, account, pathName, ok := principalRef(v)
		if !ok {
			return v, nil
		}
		var rec store.Record
		var err error
		if account == "" {
			rec, err = tx.GetByID(ctx, kind, v)
		} else {
			rec, err = tx.Get(ctx, kind, account, store.NameKey(pathName[strings.LastIndex(pathName, "/")+1:]))
		}
		if isNotFound(err) {
			return missing(kind, v)
		}
		if err != nil {
			return "", err
		}
		if account != "" {
			var m store.Meta
			if err := store.DecodeMeta(rec, &m); err != nil {
				return "", err
			}
			if entity.ARN(account, string(kind), m.Path, m.Name) != v {
				// Names compare without case, but an ARN must spell the principal exactly.
				return missing(kind, v)
			}
		}
		return rec.ID, nil
	})
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// showPrincipals returns the stored doc as IAM shows it: each user or role id replaced by the
// principal's current ARN, the ids of deleted principals left bare.
func showPrincipals(ctx context.Context, tx store.Tx, doc string) (string, error) {
	out, err := policy.RewritePrincipals([]byte(doc), func(v string) (string, error) {
		kind, account, _, ok := principalRef(v)
		if !ok || account != "" {
			return v, nil
		}
		rec, err := tx.GetByID(ctx, kind, v)
		if isNotFound(err) {
			return v, nil
		}
		if err != nil {
			return "", err
		}
		var m store.Meta
		if err := store.DecodeMeta(rec, &m); err != nil {
			return "", err
		}
		return entity.ARN(rec.Account, string(kind), m.Path, m.Name), nil
	})
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// principalRef tells whether a Principal "AWS" value names an IAM user or role: by unique id
// (account "") or by ARN (its account and the path and name after "user/" or "role/").
func principalRef(v string) (kind store.Kind, account, pathName string, ok bool) {
	if policy.IsPrincipalID(v) {
		if strings.HasPrefix(v, "AIDA") {
			return store.KindUser, "", "", true
		}
		return store.KindRole, "", "", true
	}
	rest, found := strings.CutPrefix(v, "arn:aws:iam::")
	if !found {
		return "", "", "", false
	}
	account, resource, _ := strings.Cut(rest, ":")
	if rest, found := strings.CutPrefix(resource, "user/"); found {
		return store.KindUser, account, rest, true
	}
	if rest, found := strings.CutPrefix(resource, "role/"); found {
		return store.KindRole, account, rest, true
	}
	return "", "", "", false
}

func invalidPrincipal(v string) error {
	return awsquery.MalformedPolicyDocument(`Invalid principal in policy: "AWS":"%s"`, v)
}
