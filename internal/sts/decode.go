package sts

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// DecodeAuthorizationMessage reveals an encoded authorization message that an AccessDenied
// answer carried: the decision, the statements behind it and the request context, as JSON in
// AWS's form. The caller needs sts:DecodeAuthorizationMessage (the server checks it before the
// handler runs).
//
// Only the account of the denied request can decode its message: the details are that
// account's business. A message of another account is answered like a forged one, so its
// answer tells nothing.
func (s *Service) DecodeAuthorizationMessage(ctx context.Context, in *sts.DecodeAuthorizationMessageInput) (*sts.DecodeAuthorizationMessageOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	invalid := awsquery.Errorf(http.StatusBadRequest, "InvalidAuthorizationMessageException", "The message is not a valid authorization message: it is malformed, was not issued by this service, or has expired.")
	msg, err := s.keys.DecodeAuthorizationMessage(ctx, aws.ToString(in.EncodedMessage))
	if errors.Is(err, session.ErrInvalidMessage) {
		return nil, invalid
	}
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	if messageAccount(msg) != p.Account {
		return nil, invalid
	}
	return &sts.DecodeAuthorizationMessageOutput{DecodedMessage: aws.String(msg)}, nil
}

// messageAccount is the account of the caller a decoded (hence authentic) authorization
// message describes, from its principal's ARN; "" when it names none.
func messageAccount(msg string) string {
	var m session.AuthorizationMessage
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		return ""
	}
	parts := strings.SplitN(m.Context.Principal.ARN, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[4]
}
