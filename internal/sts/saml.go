package sts

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
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

// samlAudiences are the service provider names an assertion for AWS is addressed to.
var samlAudiences = []string{"https://signin.aws.amazon.com/saml", "urn:amazon:webservices"}

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
// be the provider's entity id, it must be addressed to AWS's service provider and be current,
// and its Role attribute must pair the role with the provider. The trust policy must then
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
	meta, err := samlmeta.Parse([]byte(prov.Metadata))
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	now := s.now()
	a, err := verifySAML(aws.ToString(in.SAMLAssertion), meta, now)
	if err != nil {
		return nil, err
	}
	if !a.notOnOrAfter.IsZero() && !now.Before(a.notOnOrAfter) {
		return nil, awsquery.Errorf(http.StatusBadRequest, "ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), a.notOnOrAfter.Unix())
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
// its Assertion against the metadata's signing certificates, and reads the verified assertion.
func verifySAML(encoded string, meta *samlmeta.Metadata, now time.Time) (*samlAssertion, error) {
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
	return readAssertion(assertion, meta, now)
}

// readAssertion reads and checks a verified assertion.
func readAssertion(el *etree.Element, meta *samlmeta.Metadata, now time.Time) (*samlAssertion, error) {
	a := &samlAssertion{attrs: map[string][]string{}}
	if iss := childNS(el, nsAssertion, "Issuer"); iss != nil {
		a.issuer = strings.TrimSpace(iss.Text())
	}
	if a.issuer != meta.EntityID {
		return nil, invalidIdentityToken("The SAML assertion's issuer %q is not the provider's entity id.", a.issuer)
	}
	subject := childNS(el, nsAssertion, "Subject")
	if nameID := childNS(subject, nsAssertion, "NameID"); nameID != nil {
		a.subject = strings.TrimSpace(nameID.Text())
		a.subjectFormat = nameID.SelectAttrValue("Format", "")
	}
	if a.subject == "" {
		return nil, invalidIdentityToken("The SAML assertion has no subject NameID.")
	}
	for _, sc := range childrenNS(subject, nsAssertion, "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != bearerMethod {
			continue
		}
		data := childNS(sc, nsAssertion, "SubjectConfirmationData")
		if data == nil {
			continue
		}
		a.recipient = data.SelectAttrValue("Recipient", "")
		if t, ok := samlTime(data.SelectAttrValue("NotOnOrAfter", "")); ok {
			a.notOnOrAfter = t
		}
	}
	if !isAWSRecipient(a.recipient) {
		return nil, invalidIdentityToken("The SAML assertion's bearer SubjectConfirmationData must have the Recipient https://signin.aws.amazon.com/saml.")
	}
	cond := childNS(el, nsAssertion, "Conditions")
	if cond == nil {
		return nil, invalidIdentityToken("The SAML assertion has no Conditions.")
	}
	if t, ok := samlTime(cond.SelectAttrValue("NotBefore", "")); ok && now.Add(clockLeeway).Before(t) {
		return nil, invalidIdentityToken("The SAML assertion is not yet valid.")
	}
	if t, ok := samlTime(cond.SelectAttrValue("NotOnOrAfter", "")); ok && (a.notOnOrAfter.IsZero() || t.Before(a.notOnOrAfter)) {
		a.notOnOrAfter = t
	}
	audienceOK := false
	for _, ar := range childrenNS(cond, nsAssertion, "AudienceRestriction") {
		for _, au := range childrenNS(ar, nsAssertion, "Audience") {
			if slices.Contains(samlAudiences, strings.TrimSpace(au.Text())) {
				audienceOK = true
			}
		}
	}
	if !audienceOK {
		return nil, invalidIdentityToken("The SAML assertion's audience must be https://signin.aws.amazon.com/saml.")
	}
	if authn := childNS(el, nsAssertion, "AuthnStatement"); authn != nil {
		if t, ok := samlTime(authn.SelectAttrValue("SessionNotOnOrAfter", "")); ok {
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

func isAWSRecipient(r string) bool {
	if r == "https://signin.aws.amazon.com/saml" {
		return true
	}
	// Regional sign-in endpoints: https://REGION.signin.aws.amazon.com/saml.
	rest, ok := strings.CutPrefix(r, "https://")
	region, tail, _ := strings.Cut(rest, ".")
	return ok && region != "" && tail == "signin.aws.amazon.com/saml"
}

func samlTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
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
