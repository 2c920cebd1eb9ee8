package sts

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// DecodeAuthorizationMessage reveals an encoded authorization message that an AccessDenied
// answer carried: the decision, the statements behind it and the request context, as JSON in
// AWS's form. The caller needs sts:DecodeAuthorizationMessage (the server checks it before the
// handler runs).
func (s *Service) DecodeAuthorizationMessage(ctx context.Context, in *sts.DecodeAuthorizationMessageInput) (*sts.DecodeAuthorizationMessageOutput, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	msg, err := s.keys.DecodeAuthorizationMessage(ctx, aws.ToString(in.EncodedMessage))
	if errors.Is(err, session.ErrInvalidMessage) {
		return nil, awsquery.Errorf(http.StatusBadRequest, "InvalidAuthorizationMessageException", "The message is not a valid authorization message: it is malformed, was not issued by this service, or has expired.")
	}
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	return &sts.DecodeAuthorizationMessageOutput{DecodedMessage: aws.String(msg)}, nil
}
