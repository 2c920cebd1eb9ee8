// Package sts implements the AWS STS API operations: temporary credentials for roles
// (AssumeRole, AssumeRoleWithWebIdentity, AssumeRoleWithSAML), for users and the root user
// (GetSessionToken), for federated users (GetFederationToken), and the informational calls
// (GetCallerIdentity, GetAccessKeyInfo, DecodeAuthorizationMessage).
//
// Temporary credentials are issued by internal/session: the session token is sealed and
// self-contained, so no STS call writes the session anywhere. What the store holds is read:
// roles and their trust policies, identity providers, access keys.
package sts

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Session durations (seconds), from the STS API reference.
const (
	minDuration            = 900
	maxUserSessionDuration = 129600 // GetSessionToken, GetFederationToken
	defaultUserSession     = 43200
	maxRootSessionDuration = 3600 // sessions of the root user's credentials
	maxRoleSessionDuration = 43200
	defaultRoleSession     = 3600
	maxChainedRoleDuration = 3600 // role chaining
	maxSessionTags         = 50
	maxTransitiveTagKeys   = 50
	maxSessionPolicyARNs   = 10
	maxSessionTokenSize    = 8192 // a larger session token is refused as PackedPolicyTooLarge
	packedPolicyBudget     = 2048 // bytes of the compressed session policies and tags
	roleUseRecordInterval  = time.Minute
	defaultRegion          = "us-east-1"
	maxCachedTrust         = 4096
)

// Service holds the STS handlers.
type Service struct {
	store store.Store
	iam   *iam.Service
	// enforcer decides the checks STS operations make themselves (sts:AssumeRole on the role's
	// trust policy, sts:TagSession, ...).
	enforcer *enforce.Enforcer
	keys     *session.Keyring
	now      func() time.Time
	logger   *slog.Logger
	oidc     *oidcKeys

	mu      sync.Mutex
	roleUse map[string]time.Time // role id -> when this process last recorded its use

	trust  sync.Map // trust policy document -> *authz.Policies
	trustN atomic.Int64
}

// Options tune a Service; the zero value is the production setting.
type Options struct {
	// HTTPClient fetches OIDC discovery documents and key sets; nil uses a client that
	// trusts the system roots and, per provider, the certificates whose SHA-1 thumbprints the
	// IAM OIDC provider lists.
	HTTPClient *http.Client
	// DialIDP, when HTTPClient is nil, opens the connections of the default client; nil
	// dials the issuer's address.
	DialIDP func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns the STS service. It reads roles and identity providers from st, authorizes
// through enf, verifies MFA codes through iamSvc, and seals credentials with keys.
func New(st store.Store, iamSvc *iam.Service, enf *enforce.Enforcer, keys *session.Keyring, now func() time.Time, logger *slog.Logger, opts Options) *Service {
	return &Service{
		store:    st,
		iam:      iamSvc,
		enforcer: enf,
		keys:     keys,
		now:      now,
		logger:   logger,
		oidc:     newOIDCKeys(opts, now, logger),
		roleUse:  map[string]time.Time{},
	}
}

// Register adds the implemented STS operations to svc.
func (s *Service) Register(svc *awsquery.Service) error {
	for name, h := range map[string]awsquery.Handler{
		"GetCallerIdentity":          awsquery.Handle(s.GetCallerIdentity),
		"GetAccessKeyInfo":           awsquery.Handle(s.GetAccessKeyInfo),
		"GetSessionToken":            awsquery.Handle(s.GetSessionToken),
		"GetFederationToken":         awsquery.Handle(s.GetFederationToken),
		"AssumeRole":                 awsquery.Handle(s.AssumeRole),
		"AssumeRoleWithWebIdentity":  awsquery.Handle(s.AssumeRoleWithWebIdentity),
		"AssumeRoleWithSAML":         awsquery.Handle(s.AssumeRoleWithSAML),
		"DecodeAuthorizationMessage": awsquery.Handle(s.DecodeAuthorizationMessage),
	} {
		if err := svc.Register(name, h); err != nil {
			return err
		}
	}
	return declineUnsupported(svc)
}

// timestamp is the service clock truncated to seconds, as STS reports times.
func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Second) }

// caller is the authenticated principal of a signed operation.
func caller(ctx context.Context) (*principal.Principal, error) {
	p := principal.FromContext(ctx)
	if p == nil {
		return nil, awsquery.Errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	return p, nil
}

// internal answers failures that are not AWS errors as enforce.ServiceError does.
func (s *Service) internal(ctx context.Context, err error) error {
	return enforce.ServiceError(ctx, s.logger, "sts operation failed", err)
}

// issue seals credentials for p, whose Session is filled, and returns them in STS's shape.
// (The STS model Gatehouse serves predates MinimumSessionTokenSize and SessionTokenSize, so
// tokens are not padded.)
func (s *Service) issue(ctx context.Context, p *principal.Principal) (*types.Credentials, error) {
	creds, err := s.keys.Issue(ctx, p, 0)
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	if len(creds.SessionToken) > maxSessionTokenSize {
		return nil, packedTooLarge(100 * len(creds.SessionToken) / maxSessionTokenSize)
	}
	return &types.Credentials{
		AccessKeyId:     aws.String(creds.AccessKeyID),
		SecretAccessKey: aws.String(creds.SecretAccessKey),
		SessionToken:    aws.String(creds.SessionToken),
		Expiration:      aws.Time(creds.Expiration),
	}, nil
}

// duration checks DurationSeconds against [minDuration, max] and returns it, or def when absent.
func duration(v *int32, def, max int32) (int32, error) {
	if v == nil {
		return def, nil
	}
	d := *v
	if d < minDuration || d > max {
		return 0, awsquery.ValidationError("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value %s", d, durationBound(d, max))
	}
	return d, nil
}

func durationBound(d, max int32) string {
	if d < minDuration {
		return fmt.Sprintf("greater than or equal to %d", minDuration)
	}
	return fmt.Sprintf("less than or equal to %d", max)
}

// sessionPolicies validates the session policies of a request: the inline document as a
// session policy (MalformedPolicyDocument with IAM's message) and the managed policy ARNs.
func sessionPolicies(doc *string, arns []types.PolicyDescriptorType) ([]string, []string, error) {
	var docs, out []string
	if doc != nil {
		if _, err := policy.Parse([]byte(*doc), policy.Session); err != nil {
			msg := err.Error()
			if pe, ok := err.(*policy.Error); ok {
				msg = pe.Message
			}
			return nil, nil, awsquery.MalformedPolicyDocument("%s", msg)
		}
		docs = []string{*doc}
	}
	if len(arns) > maxSessionPolicyARNs {
		return nil, nil, awsquery.ValidationError("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionPolicyARNs)
	}
	for _, a := range arns {
		v := aws.ToString(a.Arn)
		if !strings.HasPrefix(v, "arn:aws:iam::") || !strings.Contains(v, ":policy/") {
			return nil, nil, awsquery.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The policy ARN %s is not a valid managed policy ARN.", v)
		}
		out = append(out, v)
	}
	return docs, out, nil
}

// packedSize is PackedPolicySize: the session policies, policy ARNs and session tags,
// compressed (as AWS packs them into the token) against the space a session has for them.
// It is nil when none were passed, as AWS then leaves PackedPolicySize out.
func packedSize(docs, arns []string, tags map[string]string) (*int32, error) {
	if len(docs)+len(arns)+len(tags) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("packed size: %w", err)
	}
	for _, d := range docs {
		// White space outside strings is not part of a policy's packed size.
		var c bytes.Buffer
		if compactErr := compactJSON(&c, d); compactErr == nil {
			d = c.String()
		}
		w.Write([]byte(d))
	}
	for _, a := range arns {
		w.Write([]byte(a))
	}
	// In key order, so the same tags always pack to the same size.
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		w.Write([]byte(k))
		w.Write([]byte(tags[k]))
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("packed size: %w", err)
	}
	pct := int32((100*buf.Len() + packedPolicyBudget - 1) / packedPolicyBudget)
	if pct > 100 {
		return nil, packedTooLarge(int(pct))
	}
	return &pct, nil
}

func packedTooLarge(pct int) error {
	return awsquery.Errorf(http.StatusBadRequest, "PackedPolicyTooLarge", "Packed policy consumes %d%% of allotted space, please use smaller policy for full session.", pct)
}

// recordRoleUse stores that a role was assumed, at most once per roleUseRecordInterval per role
// and process: RoleLastUsed is coarse at AWS too, and a write per AssumeRole would bound
// AssumeRole's throughput by the store's.
func (s *Service) recordRoleUse(ctx context.Context, account, roleID string, at time.Time) {
	s.mu.Lock()
	last, ok := s.roleUse[roleID]
	due := !ok || at.Sub(last) >= roleUseRecordInterval
	if due {
		if len(s.roleUse) > 65536 {
			s.roleUse = map[string]time.Time{}
		}
		s.roleUse[roleID] = at
	}
	s.mu.Unlock()
	if !due {
		return
	}
	region := defaultRegion
	if f, ok := enforce.RequestFactsFrom(ctx); ok && f.Region != "" {
		region = f.Region
	}
	if err := s.iam.RecordRoleUse(ctx, account, roleID, region, at); err != nil {
		// Bookkeeping: the credentials are issued all the same.
		s.logger.WarnContext(ctx, "record role use", slog.String("role_id", roleID), slog.String("error", err.Error()))
	}
}
