// Package respolicy stores the resource-based policies of the resources of services
// Gatehouse protects (--services): PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy
// and ListResourcePolicies on the decision API's endpoint (AWS JSON 1.1, X-Amz-Target
// Gatehouse_20261201.*), each allowed by an action of its own on the resource's ARN
// (gatehouse:PutResourcePolicy on arn:aws:orders:...), as S3's PutBucketPolicy is allowed by
// s3:PutBucketPolicy on the bucket. A stored policy takes part in every decision about its
// resource, as AWS's evaluation logic has it: it can grant other accounts' principals.
package respolicy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/services"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// TargetPrefix is the decision API's, whose endpoint these operations share.
const TargetPrefix = "Gatehouse_20261201"

// MaxPolicyLength is the longest policy document, in characters: 20 KB, as S3's bucket
// policies and Lambda's resource policies are bounded.
const MaxPolicyLength = 20480

// Invalidator drops cached decisions after a write; *enforce.Enforcer implements it.
type Invalidator interface{ Invalidate(newEntityOnly bool) }

// Service serves the resource-policy operations.
type Service struct {
	Store    store.Store
	Caches   Invalidator
	Services func() *services.Set
	Now      func() time.Time
}

// JSON returns the operations for server.WithJSON.
func (s *Service) JSON() *server.JSONService {
	return &server.JSONService{
		TargetPrefix: TargetPrefix, SigningName: "gatehouse",
		Operations: []string{"PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy", "ListResourcePolicies"},
		Handle:     s.handle, Resource: resourceOf,
	}
}

type request struct {
	ResourceArn string `json:",omitempty"`
	Policy      string `json:",omitempty"`
}

// resourceOf is the ARN an operation is authorized on.
func resourceOf(op string, body []byte) (string, error) {
	if op == "ListResourcePolicies" {
		return "*", nil
	}
	var in request
	if err := decode(body, &in); err != nil {
		return "", err
	}
	return in.ResourceArn, nil
}

func decode(body []byte, v any) error {
	return server.DecodeJSON(body, v, "The request body is not valid")
}

func validation(format string, args ...any) error {
	return awsquery.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func notFound(arn string) error {
	return awsquery.Errorf(http.StatusNotFound, "ResourceNotFoundException", "The resource %s has no resource-based policy.", arn)
}

func (s *Service) handle(ctx context.Context, op string, body []byte) ([]byte, error) {
	caller := principal.FromContext(ctx)
	var in request
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if op == "ListResourcePolicies" {
		return s.list(ctx, caller.Account)
	}
	account, err := s.owner(in.ResourceArn, caller)
	if err != nil {
		return nil, err
	}
	switch op {
	case "PutResourcePolicy":
		if err := checkPolicy(in.Policy); err != nil {
			return nil, err
		}
		rec := store.ResourcePolicy{ResourceARN: in.ResourceArn, Document: in.Policy, UpdateDate: s.Now().UTC()}
		err := s.Store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			r := store.Record{Account: account, Kind: store.KindResourcePolicy, Key: in.ResourceArn, Data: store.Encode(rec)}
			err := tx.Replace(ctx, r)
			if errors.Is(err, store.ErrNotFound) {
				err = tx.Insert(ctx, r)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		s.Caches.Invalidate(false)
		return []byte("{}"), nil
	case "GetResourcePolicy":
		var rp *store.ResourcePolicy
		err := s.Store.View(ctx, func(ctx context.Context, tx store.Tx) (err error) {
			rp, err = store.Load[store.ResourcePolicy](ctx, tx, store.KindResourcePolicy, account, in.ResourceArn)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound(in.ResourceArn)
		}
		if err != nil {
			return nil, err
		}
		return json.Marshal(struct {
			ResourceArn, Policy string
			LastModified        float64
		}{rp.ResourceARN, rp.Document, float64(rp.UpdateDate.UnixMilli()) / 1000})
	case "DeleteResourcePolicy":
		err := s.Store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.Delete(ctx, store.KindResourcePolicy, account, in.ResourceArn)
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound(in.ResourceArn)
		}
		if err != nil {
			return nil, err
		}
		s.Caches.Invalidate(false)
		return []byte("{}"), nil
	}
	return nil, validation("Unknown operation %s.", op)
}

// owner checks that arn is a resource of a protected service owned by the caller's account,
// which alone may set its policy, and returns that account.
func (s *Service) owner(arn string, caller *principal.Principal) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[5] == "" {
		return "", validation("ResourceArn %q is not an ARN (arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE).", arn)
	}
	svc, ok := s.Services().Service(parts[2])
	if !ok {
		return "", validation("ResourceArn %s is not a resource of a service Gatehouse protects: --services declares no service %q.", arn, parts[2])
	}
	account := parts[4]
	if account == "" {
		account = svc.Account
	}
	if account == "" {
		account = caller.Account
	}
	if account != caller.Account {
		return "", awsquery.AccessDenied("User: %s is not authorized to manage the policy of %s: only the account that owns a resource (%s) sets its policy", caller.ARN, arn, account)
	}
	return account, nil
}

// checkPolicy validates a resource-based policy as IAM validates documents: its grammar, a
// Principal in every statement, and its length.
func checkPolicy(doc string) error {
	if doc == "" {
		return validation("Policy is required: the resource-based policy document.")
	}
	if n := utf8.RuneCountInString(doc); n > MaxPolicyLength {
		return awsquery.Errorf(http.StatusBadRequest, "LimitExceededException", "The policy is %d characters long; a resource-based policy may have at most %d.", n, MaxPolicyLength)
	}
	if _, err := policy.Parse([]byte(doc), policy.Resource); err != nil {
		return awsquery.Errorf(http.StatusBadRequest, "MalformedPolicyDocumentException", "%v", err)
	}
	return nil
}

func (s *Service) list(ctx context.Context, account string) ([]byte, error) {
	var recs []store.Record
	err := s.Store.View(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		recs, err = tx.List(ctx, store.KindResourcePolicy, account, store.Query{})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := struct{ ResourceArns []string }{ResourceArns: []string{}}
	for _, r := range recs {
		out.ResourceArns = append(out.ResourceArns, r.Key)
	}
	return json.Marshal(out)
}
