package iam

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Authorization: the server asks AuthorizeOperation about every IAM and STS request after
// authentication and before the operation's handler runs, so a denied request changes
// nothing. The action, resource ARN and condition keys of each operation come from AWS's
// Service Authorization Reference (authorize_table.go, generated); authorize_target.go finds
// the resource an operation's input names; gather.go collects the caller's policies.

// actionRef is one action of the Service Authorization Reference.
type actionRef struct {
	Action    string // "iam:CreateUser"
	Resources []resourceRef
	// Keys are the action's own condition keys, e.g. "aws:RequestTag/${TagKey}".
	Keys []string
}

// resourceRef is a resource type an action acts on.
type resourceRef struct {
	Type     string // "user"
	Required bool
	Keys     []string
}

// resourceTypeRef is a resource type of the reference: its ARN template and condition keys.
type resourceTypeRef struct {
	Service string // "iam" or "sts"
	Type    string
	ARN     string // arn:${Partition}:iam::${Account}:user/${UserNameWithPath}
	Keys    []string
}

// ContextKey is one condition key of a request with its values.
type ContextKey struct {
	Name   string
	Values []string
	// Multi marks a multivalued key (aws:TagKeys), which ForAllValues/ForAnyValue read as a set.
	Multi bool
}

// Access is one authorization question about the authenticated caller: may it perform
// Action on Resource, given the request's own condition keys?
type Access struct {
	Action   string // "iam:PassRole"
	Resource string // the resource ARN; "" or "*" for actions without one
	// ResourceAccount owns the resource; "" means the caller's account.
	ResourceAccount string
	// ResourcePolicy is the resource's policy (a role's trust policy for sts:AssumeRole*).
	ResourcePolicy *authz.Policies
	// Keys are the action's and the resource's condition keys (aws:RequestTag/..., iam:PolicyARN,
	// iam:PassedToService, aws:ResourceTag/...). Authorize adds the global keys.
	Keys []ContextKey

	// display names the resource in the AccessDenied message when AWS does not show its ARN
	// there (see target.display).
	display string
	// accountGrant: the account's password policy allows the action (selfServiceGrant), so
	// only an explicit Deny refuses it.
	accountGrant bool
}

// RequestFacts is what the HTTP layer knows about a request that AWS's global condition keys
// report.
type RequestFacts struct {
	SourceIP        string    // aws:SourceIp
	UserAgent       string    // aws:UserAgent
	SecureTransport bool      // aws:SecureTransport
	Region          string    // aws:RequestedRegion: the region of the signature's credential scope
	Time            time.Time // aws:CurrentTime and aws:EpochTime
}

type factsKey struct{}

// WithRequestFacts returns ctx carrying f, for the condition keys of every authorization made
// while serving the request.
func WithRequestFacts(ctx context.Context, f RequestFacts) context.Context {
	return context.WithValue(ctx, factsKey{}, f)
}

// RequestFactsFrom returns the facts in ctx and whether there were any.
func RequestFactsFrom(ctx context.Context) (RequestFacts, bool) {
	f, ok := ctx.Value(factsKey{}).(RequestFacts)
	return f, ok
}

// guard holds what authorization needs beyond the store: the reference, indexed, and the
// caches of compiled policies.
type guard struct {
	ops   map[string]*opGuard        // by action, "iam:CreateUser"
	types map[string]resourceTypeRef // by "iam:user"
	// grants caches each caller's grants, keyed by the access key that signed (so a
	// session's own policies are cached with it); targets caches the users, groups and roles
	// requests name, by kind, account and lower-case name ("" arn records a missing name).
	grants  epochCache[*grants]
	targets epochCache[*target]
	docs    docCache
}

// opGuard is one action with the fields of its API input by name.
type opGuard struct {
	ref    actionRef
	fields map[string]int // input struct field name -> index; nil for actions without input
}

func newGuard() *guard {
	g := &guard{ops: map[string]*opGuard{}, types: map[string]resourceTypeRef{}}
	for _, rt := range referenceResourceTypes() {
		g.types[rt.Service+":"+rt.Type] = rt
	}
	for _, ref := range referenceActions() {
		g.ops[ref.Action] = &opGuard{ref: ref, fields: inputFields(ref.Action)}
	}
	return g
}

// op returns the guard of action, making one without resources for an operation of the API
// models that the reference does not list (it is then authorized on "*").
func (g *guard) op(action string) *opGuard {
	if o := g.ops[action]; o != nil {
		return o
	}
	return &opGuard{ref: actionRef{Action: action}, fields: inputFields(action)}
}

func inputFields(action string) map[string]int {
	in := newInput(action)
	if in == nil {
		return nil
	}
	t := reflect.TypeOf(in).Elem()
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			fields[f.Name] = i
		}
	}
	return fields
}

// input is a decoded operation input, read by field name.
type input struct {
	v      reflect.Value
	fields map[string]int
}

// field returns the named field, or an invalid Value when the input has none.
func (in input) field(name string) reflect.Value {
	i, ok := in.fields[name]
	if !ok || !in.v.IsValid() {
		return reflect.Value{}
	}
	return in.v.Field(i)
}

// str returns a *string field's value, "" when absent or nil.
func (in input) str(name string) string {
	f := in.field(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return ""
	}
	return f.Elem().String()
}

// values returns a field as condition values: a *string, *bool or integer pointer as one
// value, a []string as several (multi true). ok is false when the field is absent or nil.
func (in input) values(name string) (vals []string, multi, ok bool) {
	f := in.field(name)
	if !f.IsValid() {
		return nil, false, false
	}
	switch f.Kind() {
	case reflect.Pointer:
		if f.IsNil() {
			return nil, false, false
		}
		e := f.Elem()
		switch e.Kind() {
		case reflect.String:
			return []string{e.String()}, false, true
		case reflect.Bool:
			return []string{strconv.FormatBool(e.Bool())}, false, true
		case reflect.Int, reflect.Int32, reflect.Int64:
			return []string{strconv.FormatInt(e.Int(), 10)}, false, true
		}
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String || f.IsNil() {
			return nil, false, false
		}
		out := make([]string, f.Len())
		for i := range out {
			out[i] = f.Index(i).String()
		}
		return out, true, true
	}
	return nil, false, false
}

// tags returns a Tags field (IAM's or STS's Tag type: Key and Value *string) in order.
func (in input) tags(name string) (keys, values []string) {
	f := in.field(name)
	if !f.IsValid() || f.Kind() != reflect.Slice {
		return nil, nil
	}
	for i := range f.Len() {
		t := f.Index(i)
		if t.Kind() != reflect.Struct {
			continue
		}
		k, v := t.FieldByName("Key"), t.FieldByName("Value")
		keys = append(keys, derefString(k))
		values = append(values, derefString(v))
	}
	return keys, values
}

func derefString(v reflect.Value) string {
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return ""
	}
	return v.Elem().String()
}

// unauthenticatedOp reports the STS operations that take no signature: the web identity
// token or SAML assertion they carry and the role's trust policy, which the operation
// evaluates itself, decide them.
func unauthenticatedOp(action string) bool {
	return action == "sts:AssumeRoleWithWebIdentity" || action == "sts:AssumeRoleWithSAML"
}

// AuthorizeOperation decides a request before its handler runs: it decodes and validates the
// input (so a malformed request is a ValidationError whoever sends it, as in AWS), finds the
// resource the input names and its condition keys, gathers the caller's policies and runs
// AWS's evaluation logic. It returns nil or an AccessDenied error with AWS's message.
// service is the signing name ("iam" or "sts").
func (s *Service) AuthorizeOperation(ctx context.Context, service string, op *awsquery.OperationModel, form url.Values) error {
	action := service + ":" + op.Name
	if unauthenticatedOp(action) {
		return nil
	}
	p := principal.FromContext(ctx)
	if p == nil {
		return awsquery.AccessDenied("User: anonymous is not authorized to perform: %s", action)
	}
	// What temporary credentials may call comes first, also for the operations below that
	// skip the general step: a federation session must not reach AssumeRole.
	if err := sessionLimits(p, service, op.Name); err != nil {
		return err
	}
	switch action {
	case "sts:GetCallerIdentity", "sts:GetSessionToken":
		// AWS: no permission is needed, and policies cannot deny them.
		return nil
	case "sts:AssumeRole":
		// The operation authorizes itself through Authorize, with the role's trust policy and
		// condition keys only it establishes (aws:MultiFactorAuthPresent once it verified the
		// TokenCode), then sts:TagSession and sts:SetSourceIdentity.
		return nil
	}
	if p.Type == principal.Root && !namesOtherAccount(form, p.Account) {
		// The root user may do everything in its account; the handler validates the input.
		return nil
	}
	g := s.guard.op(action)
	in := input{fields: g.fields}
	if raw := newInput(action); raw != nil {
		if err := awsquery.Decode(op, form, raw); err != nil {
			return err
		}
		in.v = reflect.ValueOf(raw).Elem()
	}
	accs, err := s.accessesFor(ctx, p, g, in)
	if err != nil {
		return err
	}
	granted, err := s.selfServiceGrant(ctx, p, action)
	if err != nil {
		return err
	}
	for i := range accs {
		accs[i].accountGrant = granted
	}
	for i := range accs {
		if err := s.authorize(ctx, p, &accs[i]); err != nil {
			return err
		}
	}
	return nil
}

// arnFields are the input members that name a request's resource by ARN.
var arnFields = [...]string{"PolicyArn", "OpenIDConnectProviderArn", "SAMLProviderArn", "SerialNumber", "Arn", "PolicySourceArn", "EntityArn"}

// namesOtherAccount reports whether a request names a resource ARN of an account other than
// account, which even the root user may act on only as another account allows.
func namesOtherAccount(form url.Values, account string) bool {
	for _, f := range arnFields {
		if a := arnAccount(form.Get(f)); a != "" && a != account {
			return true
		}
	}
	return false
}

// arnAccount returns the 12-digit account of an IAM or STS ARN; "" for anything else (AWS
// managed policies have the account "aws").
func arnAccount(a string) string {
	rest, ok := strings.CutPrefix(a, "arn:aws:iam::")
	if !ok {
		if rest, ok = strings.CutPrefix(a, "arn:aws:sts::"); !ok {
			return ""
		}
	}
	account, _, _ := strings.Cut(rest, ":")
	if !policy.IsAccountID(account) {
		return ""
	}
	return account
}

// sessionLimits applies what AWS's "Compare AWS STS credentials" says temporary credentials
// cannot do whatever their policies say: GetFederationToken sessions call no IAM operation
// and no STS operation but GetCallerIdentity; GetSessionToken sessions call IAM only with MFA
// and STS only for AssumeRole and GetCallerIdentity; role sessions cannot call
// GetFederationToken or GetSessionToken. The console's sessions act as the signed-in user.
func sessionLimits(p *principal.Principal, service, op string) error {
	sess := p.Session
	if sess == nil || sess.Console {
		return nil
	}
	invalid := func() error {
		// AWS answers as if the token were unknown to the service.
		return awsquery.Errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid")
	}
	switch {
	case p.Type == principal.FederatedUser:
		if service == "iam" {
			return invalid()
		}
		if op != "GetCallerIdentity" {
			return awsquery.AccessDenied("Cannot call %s with session credentials", op)
		}
	case sess.RoleID != "" || p.Type == principal.AssumedRole:
		if service == "sts" && (op == "GetFederationToken" || op == "GetSessionToken") {
			return awsquery.AccessDenied("Cannot call %s with session credentials", op)
		}
	default: // GetSessionToken of an IAM user or the root user
		if service == "iam" && !sess.MFA {
			return invalid()
		}
		if service == "sts" && op != "AssumeRole" && op != "GetCallerIdentity" {
			return awsquery.AccessDenied("Cannot call %s with session credentials", op)
		}
	}
	return nil
}

// Authorize decides acc for the caller in ctx by AWS's evaluation logic, with the caller's
// identity-based policies, permissions boundary and session policies, acc's resource policy
// and condition keys, and the global condition keys. It returns nil or an AccessDenied error
// with AWS's message. Other services of Gatehouse (STS's AssumeRole, anything checking
// iam:PassRole) call it for the checks their operations make themselves.
func (s *Service) Authorize(ctx context.Context, acc Access) error {
	p := principal.FromContext(ctx)
	if p == nil {
		return awsquery.AccessDenied("User: anonymous is not authorized to perform: %s", acc.Action)
	}
	return s.authorize(ctx, p, &acc)
}

func (s *Service) authorize(ctx context.Context, p *principal.Principal, acc *Access) error {
	if acc.Resource == "" {
		acc.Resource = "*"
	}
	sameAccount := acc.ResourceAccount == "" || acc.ResourceAccount == p.Account
	if p.Type == principal.Root && sameAccount && acc.ResourcePolicy == nil {
		return nil
	}
	gr, err := s.grantsFor(ctx, p)
	if err != nil {
		return err
	}
	req := authz.Request{
		Caller:          &gr.caller,
		Action:          acc.Action,
		Resource:        acc.Resource,
		ResourceAccount: acc.ResourceAccount,
		ResourcePolicy:  acc.ResourcePolicy,
		Identity:        gr.identity,
		Boundary:        gr.boundary,
		Session:         gr.session,
	}
	if gr.usesKeys || acc.ResourcePolicy != nil {
		req.Context = s.requestContext(ctx, p, gr, acc)
	}
	res := authz.Evaluate(&req)
	if res.Decision == authz.Allowed || (acc.accountGrant && res.Decision == authz.ImplicitDeny) {
		return nil
	}
	shown := req
	if acc.display != "" {
		shown.Resource = acc.display
	}
	msg := authz.DeniedMessage(&shown, res)
	if shown.Resource == "*" && strings.HasPrefix(req.Action, "iam:") {
		// IAM names the resource "*" in its messages (STS leaves it out).
		msg = strings.Replace(msg, "perform: "+req.Action, "perform: "+req.Action+" on resource: *", 1)
	}
	if s.denials != nil && encodesDenials(req.Action) {
		// The details go sealed into the message, for sts:DecodeAuthorizationMessage.
		enc, err := s.denials.EncodeDenial(ctx, p, &req)
		if err != nil {
			s.logger.WarnContext(ctx, "encode authorization message", slog.String("error", err.Error()))
		} else {
			msg += " Encoded authorization failure message: " + enc
		}
	}
	return awsquery.AccessDenied("%s", msg)
}

// encodesDenials reports whether the AccessDenied answers of action carry an encoded
// authorization message. "Only certain AWS operations return an encoded authorization
// message. The documentation for an individual operation indicates whether that operation
// returns an encoded message" (STS API Reference, DecodeAuthorizationMessage): EC2's do, IAM's
// and STS's do not, so theirs are AWS's text alone. The encoder is kept for the services
// Gatehouse protects later.
func encodesDenials(action string) bool {
	service, _, _ := strings.Cut(action, ":")
	return service != "iam" && service != "sts"
}

// DenialEncoder seals the details of a denied request (the decision, the statements that
// decided it, the context) into the encoded authorization message AccessDenied answers carry.
type DenialEncoder interface {
	EncodeDenial(ctx context.Context, p *principal.Principal, req *authz.Request) (string, error)
}

// WithDenialEncoder makes AccessDenied answers carry messages sealed by e. It is part of
// construction: call it before the service serves requests.
func (s *Service) WithDenialEncoder(e DenialEncoder) *Service {
	s.denials = e
	return s
}

// requestContext builds the condition keys of a request: AWS's global keys from the caller
// and the request facts, then acc's own.
func (s *Service) requestContext(ctx context.Context, p *principal.Principal, gr *grants, acc *Access) *policy.Context {
	c := new(policy.Context)
	f, ok := RequestFactsFrom(ctx)
	if !ok {
		f.Time = s.now()
	}
	if f.Time.IsZero() {
		f.Time = s.now()
	}
	t := f.Time.UTC()
	c.Set("aws:CurrentTime", t.Format(time.RFC3339))
	c.Set("aws:EpochTime", strconv.FormatInt(t.Unix(), 10))
	c.Set("aws:SecureTransport", strconv.FormatBool(f.SecureTransport))
	if f.SourceIP != "" {
		c.Set("aws:SourceIp", f.SourceIP)
	}
	if f.UserAgent != "" {
		c.Set("aws:UserAgent", f.UserAgent)
	}
	if f.Region != "" {
		c.Set("aws:RequestedRegion", f.Region)
	}
	c.Set("aws:PrincipalArn", gr.principalARN)
	c.Set("aws:PrincipalAccount", p.Account)
	c.Set("aws:PrincipalType", string(p.Type))
	c.Set("aws:PrincipalIsAWSService", "false")
	c.Set("aws:ViaAWSService", "false")
	if p.UserID != "" {
		c.Set("aws:userid", p.UserID)
	}
	if p.UserName != "" && (p.Type == principal.User) {
		c.Set("aws:username", p.UserName)
	}
	for _, t := range gr.tags {
		c.Set("aws:PrincipalTag/"+t.Key, t.Value)
	}
	if sess := p.Session; sess != nil {
		c.Set("aws:MultiFactorAuthPresent", strconv.FormatBool(sess.MFA))
		if sess.MFA && !sess.MFAAt.IsZero() {
			age := max(int64(f.Time.Sub(sess.MFAAt)/time.Second), 0)
			c.Set("aws:MultiFactorAuthAge", strconv.FormatInt(age, 10))
		}
		if !sess.IssuedAt.IsZero() {
			c.Set("aws:TokenIssueTime", sess.IssuedAt.UTC().Format(time.RFC3339))
		}
		if sess.SourceIdentity != "" {
			c.Set("aws:SourceIdentity", sess.SourceIdentity)
		}
		if sess.Federated != "" {
			c.Set("aws:FederatedProvider", sess.Federated)
		}
	}
	resAccount := acc.ResourceAccount
	if resAccount == "" {
		resAccount = p.Account
	}
	c.Set("aws:ResourceAccount", resAccount)
	for _, k := range acc.Keys {
		if k.Multi {
			c.SetMulti(k.Name, k.Values...)
		} else if len(k.Values) > 0 {
			c.Set(k.Name, k.Values[0])
		}
	}
	return c
}
