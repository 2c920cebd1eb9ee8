package sts

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// GetCallerIdentity tells who signed the request, for every kind of principal: the root
// user, IAM users (also through GetSessionToken credentials), role sessions and federated
// users. It never needs a policy.
func (s *Service) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{
		Account: aws.String(p.Account),
		Arn:     aws.String(p.ARN),
		UserId:  aws.String(p.UserID),
	}, nil
}

// GetAccessKeyInfo returns the account an access key id belongs to. Temporary (ASIA) key ids
// encode their account, as AWS's do; long-term keys are looked up, whatever their status. The
// answer says nothing of the key's state.
func (s *Service) GetAccessKeyInfo(ctx context.Context, in *sts.GetAccessKeyInfoInput) (*sts.GetAccessKeyInfoOutput, error) {
	id := aws.ToString(in.AccessKeyId)
	if strings.HasPrefix(id, session.TemporaryKeyPrefix) {
		if acct, ok := session.AccountOfAccessKeyID(id); ok {
			return &sts.GetAccessKeyInfoOutput{Account: aws.String(acct)}, nil
		}
	}
	var account string
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		rec, err := tx.GetByID(ctx, store.KindAccessKey, id)
		if err != nil {
			return err
		}
		account = rec.Account
		return nil
	})
	if isNotFound(err) {
		// AWS: "Providing a deleted access key might return an error that the key doesn't
		// exist."
		return nil, awsquery.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The access key ID %s does not exist.", id)
	}
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	return &sts.GetAccessKeyInfoOutput{Account: aws.String(account)}, nil
}

func compactJSON(dst *bytes.Buffer, s string) error { return json.Compact(dst, []byte(s)) }
