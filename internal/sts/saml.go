package sts

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// SAML names AWS's service provider and attributes use (IAM User Guide, "Configure SAML
// assertions for the authentication response").
const (
	nsAssertion      = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProtocol       = "urn:oasis:names:tc:SAML:2.0:protocol"
	statusSuccess    = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bearerMethod     = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	attrRole         = "https://aws.amazon.com/SAML/Attributes/Role"
	attrSessionName  = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	attrPrincipalTag = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	attrTransitive   = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
	attrSourceID     = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
	nameIDPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	nameIDTransient  = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	maxSAMLAssertion = 100000
)

// samlEntityID is AWS's service provider name, an Audience besides the sign-in endpoints.
const samlEntityID = "urn:amazon:webservices"

// samlRedeemWindow is how long after its IssueInstant an assertion is accepted: AWS answers
// ExpiredTokenException "Token must be redeemed within 5 minutes of issuance" past it (as
// reported in Nike-Inc/gimme-aws-creds#251).
const samlRedeemWindow = 5 * time.Minute

// awsRegion is the form of a region code in a regional sign-in endpoint (us-east-2,
// ap-southeast-5: the Region column of "AWS Sign-In endpoints" in the AWS General Reference).
var awsRegion = regexp.MustCompile(`^[a-z]{2}-[a-z]+-[0-9]{1,2}$`)

// samlAttributeKeys maps the attributes that AWS turns into SAML: condition keys (by their
// OID names) to those keys.
var samlAttributeKeys = map[string]string{
	"urn:oid:2.5.4.3":                   "SAML:cn",
	"urn:oid:2.5.4.42":                  "SAML:givenName",
	"urn:oid:2.5.4.4":                   "SAML:surname",
	"urn:oid:0.9.2342.19200300.100.1.3": "SAML:mail",
	"urn:oid:0.9.2342.19200300.100.1.1": "SAML:uid",
	"urn:oid:2.5.4.10":                  "SAML:organizationStatus",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.1":  "SAML:eduPersonAffiliation",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.3":  "SAML:eduPersonOrgDN",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.6":  "SAML:eduPersonPrincipalName",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.7":  "SAML:eduPersonEntitlement",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.9":  "SAML:eduPersonScopedAffiliation",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.10": "SAML:eduPersonTargetedID",
}

// samlAssertion is what AssumeRoleWithSAML reads from a verified assertion.
type samlAssertion struct {
	issuer, subject, subjectFormat, recipient string
	notOnOrAfter, sessionNotOnOrAfter         time.Time
	attrs                                     map[string][]string // by Name, in order
}

// AssumeRoleWithSAML returns role credentials for the holder of a SAML 2.0 authentication
// response. The call is unsigned. The response (or its assertion) must carry an XML signature
// that verifies with a signing certificate of the IAM SAML provider's metadata (goxmldsig,
// which also rules out signature wrapping: only the signed element is read); its issuer must
// be the provider's entity id, it must be addressed to AWS's service provider and be current
// (readAssertion), the provider must not be past its ValidUntil, and the assertion's Role
// attribute must pair the role with the provider. The trust policy must then
// allow sts:AssumeRoleWithSAML for the provider with the SAML: condition keys (SAML:aud,
// SAML:iss, SAML:sub, SAML:sub_type, SAML:namequalifier, SAML:doc and the attribute keys).
// The session lasts DurationSeconds (one hour by default), and not past the assertion's
// SessionNotOnOrAfter.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, in *sts.AssumeRoleWithSAMLInput) (*sts.AssumeRoleWithSAMLOutput, error) {
	d, err := duration(in.DurationSeconds, defaultRoleSession, maxRoleSessionDuration)
	if err != nil {
		return nil, err
	}
	docs, arns, err := sessionPolicies(in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	roleARN, provARN := aws.ToString(in.RoleArn), aws.ToString(in.PrincipalArn)
	prov, provName, err := s.loadSAMLProvider(ctx, provARN)
	if err != nil {
		return nil, err
	}
	if prov == nil {
		return nil, invalidIdentityToken("SAML provider %s does not exist.", provARN)
	}
	now := s.now()
	// AWS is silent on the error; InvalidIdentityToken is the one of its list that fits.
	if iam.SAMLProviderExpired(prov, now) {
		return nil, invalidIdentityToken("The SAML provider %s expired at %s (its metadata's validUntil); upload current metadata with UpdateSAMLProvider to use it again.", provARN, prov.ValidUntil.UTC().Format(time.RFC3339))
	}
	meta, err := samlmeta.Parse([]byte(prov.Metadata))
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	a, err := verifySAML(aws.ToString(in.SAMLAssertion), meta, prov.UUID, now)
	if err != nil {
		return nil, err
	}
	if !a.hasRole(roleARN, provARN) {
		return nil, awsquery.AccessDenied("Not authorized to perform sts:AssumeRoleWithSAML")
	}
	sessionName := first(a.attrs[attrSessionName])
	if len(sessionName) < 2 || len(sessionName) > 64 || strings.ContainsFunc(sessionName, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-", r))
	}) {
		return nil, invalidIdentityToken("The SAML assertion's RoleSessionName attribute must be 2 to 64 characters of letters, digits and _+=,.@-.")
	}

	// Session tags and source identity from the assertion.
	var tagsIn []types.Tag
	for name, vs := range a.attrs {
		if k, ok := strings.CutPrefix(name, attrPrincipalTag); ok {
			tagsIn = append(tagsIn, types.Tag{Key: aws.String(k), Value: aws.String(first(vs))})
		}
	}
	slices.SortFunc(tagsIn, func(x, y types.Tag) int { return strings.Compare(*x.Key, *y.Key) })
	tags, transitive, tagKeyList, err := sessionTags(tagsIn, a.attrs[attrTransitive], nil)
	if err != nil {
		return nil, err
	}
	sourceIdentity := first(a.attrs[attrSourceID])
	if strings.HasPrefix(strings.ToLower(sourceIdentity), "aws:") {
		return nil, invalidParameter("The source identity can't begin with the reserved prefix 'aws:'.")
	}

	role, account, trust, err := s.loadRole(ctx, roleARN)
	if err != nil {
		return nil, err
	}
	provAccount := accountOfARN(provARN)
	nameQualifier := samlNameQualifier(a.issuer, provAccount, provName)
	subType := a.subjectType()
	c := &policy.Context{}
	c.Set("SAML:aud", a.recipient)
	c.Set("SAML:iss", a.issuer)
	c.Set("SAML:sub", a.subject)
	c.Set("SAML:sub_type", subType)
	c.Set("SAML:namequalifier", nameQualifier)
	c.Set("SAML:doc", provAccount+"/"+provName)
	c.Set("aws:FederatedProvider", provARN)
	setTimeKeys(c, now)
	for name, key := range samlAttributeKeys {
		if vs := a.attrs[name]; len(vs) > 0 {
			c.SetMulti(key, vs...)
		}
	}
	for _, k := range tagKeyList {
		c.Set("aws:RequestTag/"+k, tags[k])
	}
	if len(tagKeyList) > 0 {
		c.SetMulti("aws:TagKeys", tagKeyList...)
	}
	if len(transitive) > 0 {
		c.SetMulti("sts:TransitiveTagKeys", transitive...)
	}
	if sourceIdentity != "" {
		c.Set("sts:SourceIdentity", sourceIdentity)
	}
	fed := &authz.Caller{Type: authz.Service, Principal: policy.Principal{Federated: provARN}}
	actions := []string{"sts:AssumeRoleWithSAML"}
	if len(tags) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if sourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	for _, act := range actions {
		req := &authz.Request{Caller: fed, Action: act, Resource: roleARN, ResourceAccount: account, Context: c, ResourcePolicy: trust}
		if account != provAccount || authz.Evaluate(req).Decision != authz.Allowed {
			return nil, awsquery.AccessDenied("Not authorized to perform %s", act)
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
	if !a.sessionNotOnOrAfter.IsZero() && a.sessionNotOnOrAfter.Before(sp.Session.Expires) {
		sp.Session.Expires = a.sessionNotOnOrAfter.UTC().Truncate(time.Second)
	}
	sp.Session.Policies, sp.Session.PolicyARNs = docs, arns
	sp.Session.Tags, sp.Session.TransitiveKeys = tags, transitive
	sp.Session.SourceIdentity = sourceIdentity
	sp.Session.Federated = provARN
	creds, err := s.issue(ctx, sp)
	if err != nil {
		return nil, err
	}
	s.recordRoleUse(ctx, account, role.ID, ts)
	out := &sts.AssumeRoleWithSAMLOutput{
		AssumedRoleUser:  &types.AssumedRoleUser{Arn: aws.String(sp.ARN), AssumedRoleId: aws.String(sp.UserID)},
		Audience:         aws.String(a.recipient),
		Credentials:      creds,
		Issuer:           aws.String(a.issuer),
		NameQualifier:    aws.String(nameQualifier),
		PackedPolicySize: packed,
		Subject:          aws.String(a.subject),
		SubjectType:      aws.String(subType),
	}
	if sourceIdentity != "" {
		out.SourceIdentity = aws.String(sourceIdentity)
	}
	return out, nil
}

// samlNameQualifier is AWS's SAML:namequalifier: the base64 SHA-1 of the issuer, the account id
// and the provider's friendly name, "Issuer + AccountID + / + ProviderName".
func samlNameQualifier(issuer, account, provName string) string {
	sum := sha1.Sum([]byte(issuer + account + "/" + provName))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (a *samlAssertion) subjectType() string {
	switch a.subjectFormat {
	case nameIDPersistent:
		return "persistent"
	case nameIDTransient:
		return "transient"
	case "":
		return "unspecified"
	}
	return a.subjectFormat
}

// hasRole reports whether the Role attribute pairs roleARN with provARN ("role,provider" in
// either order, as AWS accepts).
func (a *samlAssertion) hasRole(roleARN, provARN string) bool {
	for _, v := range a.attrs[attrRole] {
		x, y, ok := strings.Cut(v, ",")
		x, y = strings.TrimSpace(x), strings.TrimSpace(y)
		if ok && (x == roleARN && y == provARN || x == provARN && y == roleARN) {
			return true
		}
	}
	return false
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// verifySAML decodes a base64 SAML Response, verifies the XML signature of the Response or of
// its Assertion against the metadata's signing certificates, and reads the verified assertion
// (readAssertion). providerID is the provider's SAMLProviderUUID.
func verifySAML(encoded string, meta *samlmeta.Metadata, providerID string, now time.Time) (*samlAssertion, error) {
	if len(encoded) > maxSAMLAssertion {
		return nil, invalidIdentityToken("The SAML assertion is too large.")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, encoded))
	if err != nil {
		return nil, invalidIdentityToken("The SAML assertion is not valid base64.")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, invalidIdentityToken("The SAML response is not well-formed XML.")
	}
	root := doc.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return nil, invalidIdentityToken("The SAML document is not a SAML 2.0 Response.")
	}
	if len(meta.SigningCertificates) == 0 {
		return nil, invalidIdentityToken("The SAML provider's metadata has no signing certificate.")
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: meta.SigningCertificates})
	vc.Clock = dsig.NewFakeClockAt(now)

	var assertion *etree.Element
	response, err := vc.Validate(root)
	switch {
	case err == nil:
		if code := childNS(childNS(response, nsProtocol, "Status"), nsProtocol, "StatusCode"); code == nil || code.SelectAttrValue("Value", "") != statusSuccess {
			return nil, invalidIdentityToken("The SAML response does not report success.")
		}
		if encrypted := childNS(response, nsAssertion, "EncryptedAssertion"); encrypted != nil {
			return nil, invalidIdentityToken("Encrypted SAML assertions are not supported.")
		}
		assertions := childrenNS(response, nsAssertion, "Assertion")
		if len(assertions) != 1 {
			return nil, invalidIdentityToken("The SAML response must carry exactly one assertion.")
		}
		assertion = assertions[0]
	case errors.Is(err, dsig.ErrMissingSignature):
		if childNS(root, nsAssertion, "EncryptedAssertion") != nil {
			return nil, invalidIdentityToken("Encrypted SAML assertions are not supported.")
		}
		assertions := childrenNS(root, nsAssertion, "Assertion")
		if len(assertions) != 1 {
			return nil, invalidIdentityToken("The SAML response must carry exactly one assertion.")
		}
		inheritNamespaces(root, assertions[0])
		if assertion, err = vc.Validate(assertions[0]); err != nil {
			return nil, invalidIdentityToken("Invalid SAML response: the signature does not verify with the provider's certificates.")
		}
	default:
		return nil, invalidIdentityToken("Invalid SAML response: the signature does not verify with the provider's certificates.")
	}
	return readAssertion(assertion, meta, providerID, now)
}

// readAssertion reads and checks a verified assertion as AWS documents it (IAM User Guide,
// "Configure SAML assertions for the authentication response"): issued by the provider,
// exactly one bearer SubjectConfirmation whose SubjectConfirmationData has a NotOnOrAfter and
// an AWS sign-in endpoint as Recipient, Conditions with AWS as an Audience, and current.
// Every time it reads must parse: a time that does not is refused, never taken as absent.
// Times not yet reached are allowed clockLeeway for the provider's clock, as ID tokens are;
// expiry times are not.
func readAssertion(el *etree.Element, meta *samlmeta.Metadata, providerID string, now time.Time) (*samlAssertion, error) {
	a := &samlAssertion{attrs: map[string][]string{}}
	if iss := childNS(el, nsAssertion, "Issuer"); iss != nil {
		a.issuer = strings.TrimSpace(iss.Text())
	}
	if a.issuer != meta.EntityID {
		return nil, invalidIdentityToken("The SAML assertion's issuer %q is not the provider's entity id.", a.issuer)
	}
	issued, ok, err := samlTime(el, "IssueInstant")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidIdentityToken("The SAML assertion has no IssueInstant.")
	}
	if now.Add(clockLeeway).Before(issued) {
		return nil, invalidIdentityToken("The SAML assertion is not yet valid: it was issued at %s.", issued.UTC().Format(time.RFC3339))
	}
	if !now.Before(issued.Add(samlRedeemWindow)) {
		return nil, expiredToken("Token must be redeemed within 5 minutes of issuance")
	}

	subject := childNS(el, nsAssertion, "Subject")
	if nameID := childNS(subject, nsAssertion, "NameID"); nameID != nil {
		a.subject = strings.TrimSpace(nameID.Text())
		a.subjectFormat = nameID.SelectAttrValue("Format", "")
	}
	if a.subject == "" {
		return nil, invalidIdentityToken("The SAML assertion has no subject NameID.")
	}
	var data *etree.Element
	if scs := childrenNS(subject, nsAssertion, "SubjectConfirmation"); len(scs) == 1 && scs[0].SelectAttrValue("Method", "") == bearerMethod {
		if ds := childrenNS(scs[0], nsAssertion, "SubjectConfirmationData"); len(ds) == 1 {
			data = ds[0]
		}
	}
	if data == nil || data.SelectAttr("NotOnOrAfter") == nil || data.SelectAttr("Recipient") == nil {
		return nil, invalidIdentityToken("The SAML assertion must have exactly one SubjectConfirmation, of Method %s, whose SubjectConfirmationData has both NotOnOrAfter and Recipient.", bearerMethod)
	}
	a.recipient = data.SelectAttrValue("Recipient", "")
	if !isAWSRecipient(a.recipient, providerID) {
		return nil, invalidIdentityToken("The SAML assertion's Recipient %q is not an AWS sign-in endpoint: use https://signin.aws.amazon.com/saml (or /static/saml), https://REGION.signin.aws.amazon.com/saml, or either with /acs/ and the provider's SAMLProviderUUID.", a.recipient)
	}
	if a.notOnOrAfter, _, err = samlTime(data, "NotOnOrAfter"); err != nil {
		return nil, err
	}
	notBefore, _, err := samlTime(data, "NotBefore")
	if err != nil {
		return nil, err
	}

	cond := childNS(el, nsAssertion, "Conditions")
	if cond == nil {
		return nil, invalidIdentityToken("The SAML assertion has no Conditions.")
	}
	condNotBefore, _, err := samlTime(cond, "NotBefore")
	if err != nil {
		return nil, err
	}
	if condNotBefore.After(notBefore) {
		notBefore = condNotBefore
	}
	if t, ok, err := samlTime(cond, "NotOnOrAfter"); err != nil {
		return nil, err
	} else if ok && t.Before(a.notOnOrAfter) {
		a.notOnOrAfter = t
	}
	audienceOK := false
	for _, ar := range childrenNS(cond, nsAssertion, "AudienceRestriction") {
		for _, au := range childrenNS(ar, nsAssertion, "Audience") {
			if v := strings.TrimSpace(au.Text()); v == samlEntityID || isAWSRecipient(v, providerID) {
				audienceOK = true
			}
		}
	}
	if !audienceOK {
		return nil, invalidIdentityToken("The SAML assertion's audience must be https://signin.aws.amazon.com/saml or urn:amazon:webservices.")
	}
	if now.Add(clockLeeway).Before(notBefore) {
		return nil, invalidIdentityToken("The SAML assertion is not yet valid.")
	}
	if !now.Before(a.notOnOrAfter) {
		// AWS's message, as aws-sdk-go reports it in Versent/saml2aws#759.
		return nil, expiredToken("Response has expired")
	}

	for _, authn := range childrenNS(el, nsAssertion, "AuthnStatement") {
		t, ok, err := samlTime(authn, "SessionNotOnOrAfter")
		if err != nil {
			return nil, err
		}
		if ok && (a.sessionNotOnOrAfter.IsZero() || t.Before(a.sessionNotOnOrAfter)) {
			a.sessionNotOnOrAfter = t
		}
	}
	for _, st := range childrenNS(el, nsAssertion, "AttributeStatement") {
		for _, attr := range childrenNS(st, nsAssertion, "Attribute") {
			name := attr.SelectAttrValue("Name", "")
			for _, v := range childrenNS(attr, nsAssertion, "AttributeValue") {
				a.attrs[name] = append(a.attrs[name], strings.TrimSpace(v.Text()))
			}
		}
	}
	return a, nil
}

func expiredToken(msg string) error {
	return awsquery.Errorf(http.StatusBadRequest, "ExpiredTokenException", "%s", msg)
}

// inheritNamespaces declares on el the namespace prefixes its ancestor root declares, so the
// element verifies on its own (as a signed assertion inside an unsigned response must). The
// declarations are in scope already, so canonicalization gives the same bytes.
func inheritNamespaces(root, el *etree.Element) {
	for _, a := range root.Attr {
		if a.Space != "xmlns" && !(a.Space == "" && a.Key == "xmlns") {
			continue
		}
		if el.SelectAttr(a.FullKey()) == nil {
			el.CreateAttr(a.FullKey(), a.Value)
		}
	}
}

// isAWSRecipient reports whether r is an AWS sign-in endpoint that SAML responses are posted
// to (IAM User Guide, "Configure SAML assertions for the authentication response"):
// https://signin.aws.amazon.com/saml and https://signin.aws.amazon.com/static/saml, the regional
// https://REGION.signin.aws.amazon.com/saml, and either of the /saml forms followed by /acs/ and
// the provider's SAMLProviderUUID (providerID), which providers that encrypt assertions use.
func isAWSRecipient(r, providerID string) bool {
	rest, ok := strings.CutPrefix(r, "https://")
	if !ok {
		return false
	}
	host, path, _ := strings.Cut(rest, "/")
	global := host == "signin.aws.amazon.com"
	if region, regional := strings.CutSuffix(host, ".signin.aws.amazon.com"); !global && !(regional && awsRegion.MatchString(region)) {
		return false
	}
	switch path {
	case "saml":
		return true
	case "static/saml":
		return global // AWS documents no regional form of it
	}
	id, ok := strings.CutPrefix(path, "saml/acs/")
	return ok && providerID != "" && id == providerID
}

// samlTime reads the xs:dateTime attribute name of el; present is false when el has none. A
// value that does not parse (one without its time zone, 2026-12-03T10:16:21, included) is an
// error, never taken as absent.
func samlTime(el *etree.Element, name string) (t time.Time, present bool, err error) {
	attr := el.SelectAttr(name)
	if attr == nil {
		return time.Time{}, false, nil
	}
	t, perr := time.Parse(time.RFC3339Nano, strings.TrimSpace(attr.Value))
	if perr != nil {
		return time.Time{}, true, invalidIdentityToken("The SAML assertion's %s %s %q is not an xs:dateTime in UTC such as 2026-12-03T10:16:21Z.", el.Tag, name, attr.Value)
	}
	return t, true, nil
}

func childNS(el *etree.Element, ns, tag string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

func childrenNS(el *etree.Element, ns, tag string) []*etree.Element {
	if el == nil {
		return nil
	}
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// loadSAMLProvider finds the SAML provider a PrincipalArn names; nil when none.
func (s *Service) loadSAMLProvider(ctx context.Context, provARN string) (*store.SAMLProvider, string, error) {
	account := accountOfARN(provARN)
	_, name, ok := strings.Cut(provARN, ":saml-provider/")
	if account == "" || !ok || name == "" {
		return nil, "", nil
	}
	var prov *store.SAMLProvider
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := store.Load[store.SAMLProvider](ctx, tx, store.KindSAMLProvider, account, strings.ToLower(name))
		if isNotFound(err) {
			return nil
		}
		prov = p
		return err
	})
	if err != nil {
		return nil, "", s.internal(ctx, err)
	}
	if prov != nil && prov.Name != name {
		return nil, "", nil
	}
	return prov, name, nil
}
