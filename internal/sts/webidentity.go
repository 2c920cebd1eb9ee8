package sts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Errors of the unsigned AssumeRoleWith* calls.
func invalidIdentityToken(format string, args ...any) error {
	return awsquery.Errorf(http.StatusBadRequest, "InvalidIdentityToken", format, args...)
}

func idpCommunicationError() error {
	return awsquery.Errorf(http.StatusBadRequest, "IDPCommunicationError", "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements")
}

// webIdentityAlgorithms are the JWS algorithms accepted for ID tokens (asymmetric only: a
// shared-secret HS256 token could be forged by anyone who has the client secret).
var webIdentityAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512,
}

// clockLeeway tolerates clocks of an identity provider that run a little ahead.
const clockLeeway = 5 * time.Minute

// webClaims are the ID token claims AssumeRoleWithWebIdentity reads.
type webClaims struct {
	jwt.Claims
	AZP  string      `json:"azp"`
	AMR  jsonStrings `json:"amr"`
	Tags *tagsClaim  `json:"https://aws.amazon.com/tags"`
	SI   string      `json:"https://aws.amazon.com/source_identity"`
}

// tagsClaim is AWS's session-tags claim of a web identity token.
type tagsClaim struct {
	PrincipalTags     map[string][]string `json:"principal_tags"`
	TransitiveTagKeys []string            `json:"transitive_tag_keys"`
}

// jsonStrings reads a claim that is a string or an array of strings.
type jsonStrings []string

func (s *jsonStrings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// AssumeRoleWithWebIdentity returns role credentials for the holder of an OpenID Connect ID
// token. The call is unsigned. The token's issuer must be an IAM OIDC provider of the role's
// account; its signature is verified with the issuer's published keys (discovery document and
// JWKS, fetched over TLS trusted by the system roots or the provider's thumbprints, and
// cached); it must not have expired, and its audience must be one of the provider's client
// ids. The role's trust policy must then allow sts:AssumeRoleWithWebIdentity for the provider
// (Principal {"Federated": provider ARN}), with the condition keys PROVIDER:aud, PROVIDER:sub,
// PROVIDER:amr, sts:RoleSessionName and the token's session tags and source identity (which
// need sts:TagSession and sts:SetSourceIdentity).
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	if in.ProviderId != nil {
		return nil, invalidIdentityToken("ProviderId is for OAuth 2.0 access tokens of Amazon, Facebook and Google, which Gatehouse does not accept; use an OpenID Connect ID token.")
	}
	d, err := duration(in.DurationSeconds, defaultRoleSession, maxRoleSessionDuration)
	if err != nil {
		return nil, err
	}
	docs, arns, err := sessionPolicies(in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	roleARN, sessionName := aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName)

	tok, err := jwt.ParseSigned(aws.ToString(in.WebIdentityToken), webIdentityAlgorithms)
	if err != nil {
		return nil, invalidIdentityToken("The web identity token is not a signed JWT: %v", err)
	}
	var unverified webClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, invalidIdentityToken("The web identity token's claims cannot be read.")
	}
	issuer := unverified.Issuer
	if !strings.HasPrefix(issuer, "https://") {
		return nil, invalidIdentityToken("No OpenIDConnect provider found in your account for %s", issuer)
	}
	prov, err := s.loadOIDCProvider(ctx, accountOfARN(roleARN), issuer)
	if err != nil {
		return nil, err
	}
	if prov == nil {
		return nil, invalidIdentityToken("No OpenIDConnect provider found in your account for %s", issuer)
	}
	kid := ""
	if len(tok.Headers) > 0 {
		kid = tok.Headers[0].KeyID
	}
	keys, err := s.oidc.keys(ctx, issuer, prov.Thumbprints, kid)
	if err != nil {
		// The issuer is unreachable or the caller left. Logged once per failed fetch, not per
		// request: forged tokens can name a failing issuer at any rate.
		return nil, idpCommunicationError()
	}
	var claims webClaims
	verified := false
	for _, k := range keys {
		if err := tok.Claims(k.Key, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, invalidIdentityToken("The web identity token's signature does not verify with the keys of %s.", issuer)
	}
	now := s.now()
	if claims.Expiry == nil {
		return nil, invalidIdentityToken("The web identity token has no expiration (exp).")
	}
	if !now.Before(claims.Expiry.Time()) {
		return nil, awsquery.Errorf(http.StatusBadRequest, "ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), claims.Expiry.Time().Unix())
	}
	if (claims.NotBefore != nil && now.Add(clockLeeway).Before(claims.NotBefore.Time())) || (claims.IssuedAt != nil && now.Add(clockLeeway).Before(claims.IssuedAt.Time())) {
		return nil, invalidIdentityToken("The web identity token is not valid yet.")
	}
	if claims.Subject == "" {
		return nil, invalidIdentityToken("The web identity token has no subject (sub).")
	}
	audience := ""
	for _, a := range claims.Audience {
		if slices.Contains(prov.ClientIDs, a) {
			audience = a
			break
		}
	}
	if audience == "" {
		return nil, invalidIdentityToken("Incorrect token audience")
	}
	// With several audiences the authorized party is the audience (IAM User Guide, "Available
	// keys for AWS web identity federation": the aud key is azp when it is set), so it must be a
	// client id of the provider as well.
	if len(claims.Audience) > 1 && claims.AZP != "" {
		if !slices.Contains(prov.ClientIDs, claims.AZP) {
			return nil, invalidIdentityToken("Incorrect token audience")
		}
		audience = claims.AZP
	}

	// Session tags and source identity from the token.
	var tags map[string]string
	var transitive, tagKeyList []string
	if claims.Tags != nil {
		in := make([]types.Tag, 0, len(claims.Tags.PrincipalTags))
		for k, vs := range claims.Tags.PrincipalTags {
			v := ""
			if len(vs) > 0 {
				v = vs[0]
			}
			in = append(in, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		slices.SortFunc(in, func(a, b types.Tag) int { return strings.Compare(*a.Key, *b.Key) })
		if tags, transitive, tagKeyList, err = sessionTags(in, claims.Tags.TransitiveTagKeys, nil); err != nil {
			return nil, err
		}
	}
	if strings.HasPrefix(strings.ToLower(claims.SI), "aws:") {
		return nil, invalidParameter("The source identity can't begin with the reserved prefix 'aws:'.")
	}

	role, account, trust, err := s.loadRole(ctx, roleARN)
	if err != nil {
		return nil, err
	}
	provARN := "arn:aws:iam::" + account + ":oidc-provider/" + prov.URL
	c := &policy.Context{}
	c.Set("sts:RoleSessionName", sessionName)
	c.Set(prov.URL+":aud", audience)
	c.Set(prov.URL+":sub", claims.Subject)
	if len(claims.AMR) > 0 {
		c.SetMulti(prov.URL+":amr", claims.AMR...)
	}
	c.Set("aws:FederatedProvider", provARN)
	setTimeKeys(c, now)
	for _, k := range tagKeyList {
		c.Set("aws:RequestTag/"+k, tags[k])
	}
	if len(tagKeyList) > 0 {
		c.SetMulti("aws:TagKeys", tagKeyList...)
	}
	if len(transitive) > 0 {
		c.SetMulti("sts:TransitiveTagKeys", transitive...)
	}
	if claims.SI != "" {
		c.Set("sts:SourceIdentity", claims.SI)
	}
	fed := &authz.Caller{Type: authz.Service, Principal: policy.Principal{Federated: provARN}}
	actions := []string{"sts:AssumeRoleWithWebIdentity"}
	if len(tags) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if claims.SI != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	for _, a := range actions {
		req := &authz.Request{Caller: fed, Action: a, Resource: roleARN, ResourceAccount: account, Context: c, ResourcePolicy: trust}
		if authz.Evaluate(req).Decision != authz.Allowed {
			return nil, awsquery.AccessDenied("Not authorized to perform %s", a)
		}
	}
	if d > role.MaxSessionDuration {
		return nil, awsquery.ValidationError("%s", msgRoleMaxSession)
	}
	packed, err := packedSize(docs, arns, tags)
	if err != nil {
		return nil, err
	}
	ts := s.timestamp()
	sp := roleSession(account, role, sessionName, ts, d)
	sp.Session.Policies, sp.Session.PolicyARNs = docs, arns
	sp.Session.Tags, sp.Session.TransitiveKeys = tags, transitive
	sp.Session.SourceIdentity = claims.SI
	sp.Session.Federated = provARN
	creds, err := s.issue(ctx, sp)
	if err != nil {
		return nil, err
	}
	s.recordRoleUse(ctx, account, role.ID, ts)
	out := &sts.AssumeRoleWithWebIdentityOutput{
		AssumedRoleUser:             &types.AssumedRoleUser{Arn: aws.String(sp.ARN), AssumedRoleId: aws.String(sp.UserID)},
		Audience:                    aws.String(audience),
		Credentials:                 creds,
		PackedPolicySize:            packed,
		Provider:                    aws.String(issuer),
		SubjectFromWebIdentityToken: aws.String(claims.Subject),
	}
	if claims.SI != "" {
		out.SourceIdentity = aws.String(claims.SI)
	}
	return out, nil
}

// setTimeKeys sets aws:CurrentTime and aws:EpochTime.
func setTimeKeys(c *policy.Context, now time.Time) {
	c.Set("aws:CurrentTime", now.UTC().Format(time.RFC3339))
	c.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
}

// loadOIDCProvider finds the IAM OIDC provider of account for an issuer URL; nil when none.
func (s *Service) loadOIDCProvider(ctx context.Context, account, issuer string) (*store.OIDCProvider, error) {
	key := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(issuer, "https://"), "/"))
	var prov *store.OIDCProvider
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := store.Load[store.OIDCProvider](ctx, tx, store.KindOIDCProvider, account, key)
		if isNotFound(err) {
			return nil
		}
		prov = p
		return err
	})
	if err != nil {
		return nil, s.internal(ctx, fmt.Errorf("load oidc provider: %w", err))
	}
	return prov, nil
}
