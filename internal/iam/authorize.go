package iam

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Authorization: the server asks AuthorizeOperation about every IAM and STS request after
// authentication and before the operation's handler runs, so a denied request changes
// nothing. This file and its neighbours only map an operation's input to the questions it
// asks (enforce.Access): the action, resource ARN and condition keys of each operation come
// from AWS's Service Authorization Reference (authorize_table.go, generated);
// authorize_target.go finds the resource an operation's input names. Deciding them (the
// caller's policies, the request context, the evaluation, the AccessDenied message) is
// internal/enforce's.

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

// guard holds what mapping an operation to its Access values needs beyond the store: the
// reference, indexed, and the cache of authorization targets.
type guard struct {
	ops   map[string]*opGuard        // by action, "iam:CreateUser"
	types map[string]resourceTypeRef // by "iam:user"
	// targets caches the users, groups and roles requests name, by kind, account and
	// lower-case name ("" arn records a missing name). It is stale from the next epoch of
	// committed writes (enforce.Enforcer.Epoch), like the enforcer's own caches.
	targets enforce.EpochCache[*target]
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
		accs[i].AccountGrant = granted
	}
	for i := range accs {
		if err := s.enforcer.Decide(ctx, p, &accs[i]); err != nil {
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
