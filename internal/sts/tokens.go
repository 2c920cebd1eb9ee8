package sts

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Messages of AWS STS.
const (
	msgMFABoth          = "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
	msgMFAUnvalidated   = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."
	msgMFAInvalidCode   = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
	msgSessionCredsCall = "Cannot call %s with session credentials"
)

// GetSessionToken returns temporary credentials for the calling IAM user or root user, for
// 900 to 129,600 seconds (12 hours by default); the root user's sessions last at most an hour
// (a longer request gets one hour, as AWS documents). With SerialNumber and TokenCode the
// code is verified and the session counts as MFA-authenticated (aws:MultiFactorAuthPresent).
// Temporary credentials cannot call it.
func (s *Service) GetSessionToken(ctx context.Context, in *sts.GetSessionTokenInput) (*sts.GetSessionTokenOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.Session != nil {
		return nil, awsquery.AccessDenied(msgSessionCredsCall, "GetSessionToken")
	}
	d, err := duration(in.DurationSeconds, defaultUserSession, maxUserSessionDuration)
	if err != nil {
		return nil, err
	}
	if p.Type == principal.Root && (in.DurationSeconds == nil || d > maxRootSessionDuration) {
		d = maxRootSessionDuration
	}
	mfa, err := s.verifyMFA(ctx, p, in.SerialNumber, in.TokenCode, msgMFAUnvalidated)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	sp := *p
	sp.Session = &principal.Session{IssuedAt: now, Expires: now.Add(time.Duration(d) * time.Second), UserID: p.UserID, MFA: mfa}
	if mfa {
		sp.Session.MFAAt = now
	}
	creds, err := s.issue(ctx, &sp)
	if err != nil {
		return nil, err
	}
	return &sts.GetSessionTokenOutput{Credentials: creds}, nil
}

// verifyMFA checks SerialNumber and TokenCode when given (both or neither) for the calling
// user or root user, and reports whether a code was verified. A code works once.
func (s *Service) verifyMFA(ctx context.Context, p *principal.Principal, serial, code *string, failMsg string) (bool, error) {
	if serial == nil && code == nil {
		return false, nil
	}
	if serial == nil || code == nil {
		return false, awsquery.AccessDenied("%s", msgMFABoth)
	}
	owner := p.UserID
	if p.Session != nil && p.Session.UserID != "" {
		owner = p.Session.UserID
	}
	if p.Type != principal.User && p.Type != principal.Root {
		// Only IAM users and the root user own MFA devices.
		return false, awsquery.AccessDenied("%s", failMsg)
	}
	err := s.iam.VerifyMFACode(ctx, p.Account, *serial, owner, *code)
	if errors.Is(err, iam.ErrInvalidMFACode) {
		return false, awsquery.AccessDenied("%s", failMsg)
	}
	if err != nil {
		return false, s.internal(ctx, err)
	}
	return true, nil
}

// GetFederationToken returns temporary credentials for a federated user named Name, on behalf
// of the calling IAM user (or root user): arn:aws:sts::ACCOUNT:federated-user/NAME. The
// session's permissions are the intersection of the caller's and the session policies
// passed (none passed: no permissions). Durations are as GetSessionToken's. Session tags need
// sts:TagSession.
func (s *Service) GetFederationToken(ctx context.Context, in *sts.GetFederationTokenInput) (*sts.GetFederationTokenOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.Session != nil {
		return nil, awsquery.AccessDenied(msgSessionCredsCall, "GetFederationToken")
	}
	d, err := duration(in.DurationSeconds, defaultUserSession, maxUserSessionDuration)
	if err != nil {
		return nil, err
	}
	if p.Type == principal.Root && (in.DurationSeconds == nil || d > maxRootSessionDuration) {
		d = maxRootSessionDuration
	}
	docs, arns, err := sessionPolicies(in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	tags, _, keys, err := sessionTags(in.Tags, nil, nil)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	fedARN := "arn:aws:sts::" + p.Account + ":federated-user/" + name
	if len(keys) > 0 {
		if err := s.enforcer.Authorize(ctx, enforce.Access{Action: "sts:TagSession", Resource: fedARN, Keys: tagKeys(tags, keys)}); err != nil {
			return nil, err
		}
	}
	packed, err := packedSize(docs, arns, tags)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	fp := principal.Principal{
		Type:    principal.FederatedUser,
		Account: p.Account,
		ARN:     fedARN,
		UserID:  p.Account + ":" + name,
		Session: &principal.Session{
			IssuedAt: now, Expires: now.Add(time.Duration(d) * time.Second),
			UserID: p.UserID, Policies: docs, PolicyARNs: arns, Tags: tags,
		},
	}
	creds, err := s.issue(ctx, &fp)
	if err != nil {
		return nil, err
	}
	return &sts.GetFederationTokenOutput{
		Credentials:      creds,
		FederatedUser:    &types.FederatedUser{Arn: aws.String(fedARN), FederatedUserId: aws.String(fp.UserID)},
		PackedPolicySize: packed,
	}, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
