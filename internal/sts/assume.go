package sts

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

const (
	msgRootAssume     = "Roles may not be assumed by root accounts."
	msgRoleMaxSession = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	msgChainedSession = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)

// AssumeRole returns temporary credentials for a role session, as AWS's AssumeRole does:
//
//   - The role's trust policy must allow sts:AssumeRole for the caller; across accounts (or
//     when the trust policy names the caller's account rather than the caller) the caller's
//     identity-based policies must allow it too. Both go through AWS's evaluation logic with
//     the request's condition keys: sts:ExternalId, sts:RoleSessionName, sts:SourceIdentity,
//     sts:TransitiveTagKeys, aws:RequestTag/*, aws:TagKeys and, after SerialNumber and
//     TokenCode verified, aws:MultiFactorAuthPresent. A role that does not exist is denied
//     like one whose trust policy does not allow, so callers cannot probe for roles.
//   - Session tags need sts:TagSession, a source identity sts:SetSourceIdentity.
//   - The root user cannot assume roles.
//   - DurationSeconds runs from 900 seconds to the role's MaxSessionDuration (1 hour by
//     default); sessions of temporary credentials (role chaining) last at most an hour.
//   - Session policies (Policy, PolicyArns) narrow the role's permissions; the calling
//     session's transitive tags and source identity carry over.
func (s *Service) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput) (*sts.AssumeRoleOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.Type == principal.Root {
		return nil, awsquery.AccessDenied("%s", msgRootAssume)
	}
	d, err := duration(in.DurationSeconds, defaultRoleSession, maxRoleSessionDuration)
	if err != nil {
		return nil, err
	}
	docs, arns, err := sessionPolicies(in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	var from *principal.Session
	if p.Session != nil && p.Session.RoleID != "" {
		from = p.Session // role chaining: transitive tags and source identity carry over
	}
	tags, transitive, tagKeyList, err := sessionTags(in.Tags, in.TransitiveTagKeys, from)
	if err != nil {
		return nil, err
	}
	sourceIdentity, err := chooseSourceIdentity(p.Session, in.SourceIdentity)
	if err != nil {
		return nil, err
	}
	mfa, err := s.verifyMFA(ctx, p, in.SerialNumber, in.TokenCode, msgMFAInvalidCode)
	if err != nil {
		return nil, err
	}

	roleARN, sessionName := aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName)
	role, roleAccount, trust, err := s.loadRole(ctx, roleARN)
	if err != nil {
		return nil, err
	}
	keys := []enforce.ContextKey{{Name: "sts:RoleSessionName", Values: []string{sessionName}}}
	if in.ExternalId != nil {
		keys = append(keys, enforce.ContextKey{Name: "sts:ExternalId", Values: []string{*in.ExternalId}})
	}
	if in.SourceIdentity != nil {
		keys = append(keys, enforce.ContextKey{Name: "sts:SourceIdentity", Values: []string{*in.SourceIdentity}})
	}
	if in.TransitiveTagKeys != nil {
		keys = append(keys, enforce.ContextKey{Name: "sts:TransitiveTagKeys", Values: in.TransitiveTagKeys, Multi: true})
	}
	keys = append(keys, tagKeys(tags, tagKeyList)...)
	// The Service Authorization Reference lists the role's tags for sts:AssumeRole.
	for _, t := range role.Tags {
		keys = append(keys,
			enforce.ContextKey{Name: "aws:ResourceTag/" + t.Key, Values: []string{t.Value}},
			enforce.ContextKey{Name: "iam:ResourceTag/" + t.Key, Values: []string{t.Value}})
	}
	if mfa {
		keys = append(keys,
			enforce.ContextKey{Name: "aws:MultiFactorAuthPresent", Values: []string{"true"}},
			enforce.ContextKey{Name: "aws:MultiFactorAuthAge", Values: []string{"0"}})
	}
	acc := enforce.Access{Action: "sts:AssumeRole", Resource: roleARN, ResourceAccount: roleAccount, ResourcePolicy: trust, Keys: keys}
	if err := s.enforcer.Authorize(ctx, acc); err != nil {
		return nil, err
	}
	if len(tags) > 0 {
		acc.Action = "sts:TagSession"
		if err := s.enforcer.Authorize(ctx, acc); err != nil {
			return nil, err
		}
	}
	if sourceIdentity != "" {
		acc.Action = "sts:SetSourceIdentity"
		if err := s.enforcer.Authorize(ctx, acc); err != nil {
			return nil, err
		}
	}

	// Durations are checked once the caller may assume the role, so that the role's settings
	// are not told to callers who may not.
	chained := p.Session != nil
	switch {
	case chained && d > maxChainedRoleDuration:
		return nil, awsquery.ValidationError("%s", msgChainedSession)
	case d > role.MaxSessionDuration:
		return nil, awsquery.ValidationError("%s", msgRoleMaxSession)
	}
	packed, err := packedSize(docs, arns, tags)
	if err != nil {
		return nil, err
	}

	now := s.timestamp()
	sp := roleSession(roleAccount, role, sessionName, now, d)
	sess := sp.Session
	sess.Policies, sess.PolicyARNs = docs, arns
	sess.Tags, sess.TransitiveKeys = tags, transitive
	sess.SourceIdentity = sourceIdentity
	sess.Chained = chained
	if mfa {
		sess.MFA, sess.MFAAt = true, now
	} else if p.Session != nil && p.Session.MFA {
		// MFA authentication carries over to sessions made with MFA-authenticated credentials.
		sess.MFA, sess.MFAAt = true, p.Session.MFAAt
	}
	creds, err := s.issue(ctx, sp)
	if err != nil {
		return nil, err
	}
	s.recordRoleUse(ctx, roleAccount, role.ID, now)
	out := &sts.AssumeRoleOutput{
		AssumedRoleUser:  &types.AssumedRoleUser{Arn: aws.String(sp.ARN), AssumedRoleId: aws.String(sp.UserID)},
		Credentials:      creds,
		PackedPolicySize: packed,
	}
	if sourceIdentity != "" {
		out.SourceIdentity = aws.String(sourceIdentity)
	}
	return out, nil
}

// roleSession is the principal of a new session of role: arn:aws:sts::ACCOUNT:assumed-role/
// NAME/SESSION (no path), user id ROLEID:SESSION.
func roleSession(account string, role *store.Role, sessionName string, now time.Time, d int32) *principal.Principal {
	return &principal.Principal{
		Type:    principal.AssumedRole,
		Account: account,
		ARN:     "arn:aws:sts::" + account + ":assumed-role/" + role.Name + "/" + sessionName,
		UserID:  role.ID + ":" + sessionName,
		Session: &principal.Session{
			IssuedAt: now, Expires: now.Add(time.Duration(d) * time.Second),
			RoleID: role.ID, RoleARN: roleARNOf(account, role), RoleName: role.Name, SessionName: sessionName,
		},
	}
}

func roleARNOf(account string, r *store.Role) string {
	return "arn:aws:iam::" + account + ":role" + r.Path + r.Name
}

// chooseSourceIdentity returns the source identity of a new session: the calling session's,
// which cannot change once set, or the one requested.
func chooseSourceIdentity(from *principal.Session, requested *string) (string, error) {
	have := ""
	if from != nil {
		have = from.SourceIdentity
	}
	if requested == nil {
		return have, nil
	}
	if strings.HasPrefix(strings.ToLower(*requested), "aws:") {
		return "", invalidParameter("The source identity can't begin with the reserved prefix 'aws:'.")
	}
	if have != "" && have != *requested {
		return "", awsquery.AccessDenied("The source identity of a session can't be changed: the calling session's source identity is %s.", have)
	}
	return *requested, nil
}

// accountOfARN returns the account of an IAM ARN, "" when it is not one.
func accountOfARN(a string) string {
	rest, ok := strings.CutPrefix(a, "arn:aws:iam::")
	if !ok {
		return ""
	}
	acct, _, _ := strings.Cut(rest, ":")
	return acct
}

// loadRole finds the role a RoleArn names, in its own account, with its trust policy. A role
// that does not exist, or an ARN whose path or name case differs from the role's, gives an
// empty role whose trust policy allows nothing.
func (s *Service) loadRole(ctx context.Context, roleARN string) (*store.Role, string, *authz.Policies, error) {
	empty := &authz.Policies{}
	rest, ok := strings.CutPrefix(roleARN, "arn:aws:iam::")
	if !ok {
		return &store.Role{}, "", empty, nil
	}
	account, resource, _ := strings.Cut(rest, ":")
	pathName, ok := strings.CutPrefix(resource, "role/")
	if !ok || pathName == "" {
		return &store.Role{}, account, empty, nil
	}
	name := pathName[strings.LastIndex(pathName, "/")+1:]
	var role *store.Role
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		r, err := store.Load[store.Role](ctx, tx, store.KindRole, account, strings.ToLower(name))
		if isNotFound(err) {
			return nil
		}
		role = r
		return err
	})
	if err != nil {
		return nil, "", nil, s.internal(ctx, err)
	}
	if role == nil || roleARNOf(account, role) != roleARN {
		return &store.Role{}, account, empty, nil
	}
	trust, err := s.trustPolicies(role.AssumeRolePolicyDocument)
	if err != nil {
		// A stored trust policy was validated when it was written; one that no longer parses
		// allows nothing.
		s.logger.ErrorContext(ctx, "role trust policy does not parse", "role", roleARN, "error", err.Error())
		return role, account, empty, nil
	}
	return role, account, trust, nil
}

// trustPolicies compiles a trust policy, from a cache by document: AssumeRole is frequent,
// trust policies are few and rarely change.
func (s *Service) trustPolicies(doc string) (*authz.Policies, error) {
	if v, ok := s.trust.Load(doc); ok {
		return v.(*authz.Policies), nil
	}
	p, err := policy.ParseStored([]byte(doc), policy.Trust)
	if err != nil {
		return nil, err
	}
	ps := authz.NewPolicies([]*policy.Policy{p}, []authz.Source{{Type: authz.ResourcePolicy, ID: "AssumeRolePolicyDocument"}})
	if s.trustN.Add(1) > maxCachedTrust {
		s.trust.Clear()
		s.trustN.Store(0)
	}
	s.trust.Store(doc, ps)
	return ps, nil
}
