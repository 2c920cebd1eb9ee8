package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// MaxEncodedMessage is the longest EncodedMessage DecodeAuthorizationMessage takes (the STS
// API's limit); EncodeAuthorizationMessage stays within it.
const MaxEncodedMessage = 10240

// ErrInvalidMessage is an encoded authorization message this deployment did not make (or whose
// key is gone): STS's InvalidAuthorizationMessageException.
var ErrInvalidMessage = errors.New("session: invalid authorization message")

// AuthorizationMessage is what an encoded authorization message reveals, in the JSON form AWS's
// DecodeAuthorizationMessage returns: the decision, the statements behind it and the request
// context.
type AuthorizationMessage struct {
	Allowed           bool                 `json:"allowed"`
	ExplicitDeny      bool                 `json:"explicitDeny"`
	MatchedStatements Items[StatementInfo] `json:"matchedStatements"`
	Failures          Items[Value]         `json:"failures"`
	Context           MessageContext       `json:"context"`
}

// Items is AWS's {"items": [...]} list wrapper.
type Items[T any] struct {
	Items []T `json:"items"`
}

// Value is one {"value": ...} element.
type Value struct {
	Value string `json:"value"`
}

// StatementInfo describes one matched statement.
type StatementInfo struct {
	StatementID     string           `json:"statementId"`
	Effect          string           `json:"effect"` // ALLOW or DENY
	Principals      Items[Value]     `json:"principals"`
	PrincipalGroups Items[Value]     `json:"principalGroups"`
	Actions         Items[Value]     `json:"actions"`
	Resources       Items[Value]     `json:"resources"`
	Conditions      Items[KeyValues] `json:"conditions"`
	Source          *StatementSource `json:"source,omitempty"`
}

// StatementSource names the policy a statement is from (a Gatehouse addition to AWS's form).
type StatementSource struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

// KeyValues is a condition key with its values.
type KeyValues struct {
	Key    string       `json:"key"`
	Values Items[Value] `json:"values"`
}

// MessageContext is the request as authorization saw it.
type MessageContext struct {
	Principal  MessagePrincipal `json:"principal"`
	Action     string           `json:"action"`
	Resource   string           `json:"resource"`
	Conditions Items[KeyValues] `json:"conditions"`
}

// MessagePrincipal is the caller.
type MessagePrincipal struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	ARN  string `json:"arn"`
}

// NewAuthorizationMessage describes the decision res on req made for caller p. For the matched
// statements, res should come from authz.Explain (authz.Evaluate leaves them out).
func NewAuthorizationMessage(p *principal.Principal, req *authz.Request, res authz.Result) *AuthorizationMessage {
	m := &AuthorizationMessage{
		Allowed:      res.Decision == authz.Allowed,
		ExplicitDeny: res.Decision == authz.ExplicitDeny,
		Context: MessageContext{
			Action:   req.Action,
			Resource: req.Resource,
		},
	}
	if p != nil {
		m.Context.Principal = MessagePrincipal{ID: p.UserID, Name: p.UserName, ARN: p.ARN}
	}
	for _, k := range req.Context.Keys() {
		v, _ := req.Context.Get(k)
		m.Context.Conditions.Items = append(m.Context.Conditions.Items, KeyValues{Key: k, Values: values(v.Values)})
	}
	for _, mt := range res.Matched {
		m.MatchedStatements.Items = append(m.MatchedStatements.Items, statementInfo(p, req, mt))
	}
	m.normalize()
	return m
}

// normalize turns nil lists into empty ones, as AWS writes "items": [].
func (m *AuthorizationMessage) normalize() {
	if m.MatchedStatements.Items == nil {
		m.MatchedStatements.Items = []StatementInfo{}
	}
	if m.Failures.Items == nil {
		m.Failures.Items = []Value{}
	}
	if m.Context.Conditions.Items == nil {
		m.Context.Conditions.Items = []KeyValues{}
	}
	for i := range m.MatchedStatements.Items {
		s := &m.MatchedStatements.Items[i]
		for _, l := range []*Items[Value]{&s.Principals, &s.PrincipalGroups, &s.Actions, &s.Resources} {
			if l.Items == nil {
				l.Items = []Value{}
			}
		}
		if s.Conditions.Items == nil {
			s.Conditions.Items = []KeyValues{}
		}
	}
}

func values(vs []string) Items[Value] {
	out := Items[Value]{Items: make([]Value, len(vs))}
	for i, v := range vs {
		out.Items[i] = Value{Value: v}
	}
	return out
}

// statementInfo describes a matched statement from the policy it came from.
func statementInfo(p *principal.Principal, req *authz.Request, mt authz.Matched) StatementInfo {
	si := StatementInfo{StatementID: mt.Sid, Effect: strings.ToUpper(mt.Effect.String()), Source: &StatementSource{Type: string(mt.Source.Type), ID: mt.Source.ID}}
	st := findStatement(req, mt)
	if st == nil {
		return si
	}
	switch {
	case st.Principal != nil:
		var ps []string
		if st.Principal.Any {
			ps = append(ps, "*")
		}
		ps = append(ps, st.Principal.AWS...)
		ps = append(ps, st.Principal.Service...)
		ps = append(ps, st.Principal.Federated...)
		si.Principals = values(ps)
	case p != nil:
		// An identity-based statement applies to its holder, which AWS names by unique id.
		id, _, _ := strings.Cut(p.UserID, ":")
		si.Principals = values([]string{id})
	}
	if !st.NotAction {
		si.Actions = values(st.Action)
	}
	if !st.NotResource {
		si.Resources = values(st.Resource)
	}
	for _, c := range st.Condition {
		si.Conditions.Items = append(si.Conditions.Items, KeyValues{Key: c.Key, Values: values(c.Values)})
	}
	return si
}

// findStatement finds the statement a match names among the request's policies of its type.
func findStatement(req *authz.Request, mt authz.Matched) *policy.Statement {
	var cands []*authz.Policies
	switch mt.Source.Type {
	case authz.IdentityPolicy:
		cands = []*authz.Policies{req.Identity}
	case authz.ResourcePolicy:
		cands = []*authz.Policies{req.ResourcePolicy}
	case authz.BoundaryPolicy:
		cands = []*authz.Policies{req.Boundary}
	case authz.SessionPolicy:
		cands = []*authz.Policies{req.Session}
	case authz.SCPPolicy:
		cands = req.SCPs
	case authz.RCPPolicy:
		cands = req.RCPs
	}
	for _, ps := range cands {
		if ps == nil || ps.Set == nil || mt.Policy >= ps.Set.Len() {
			continue
		}
		// Organization levels each index from 0: the source tells which level's policy it is.
		if len(cands) > 1 && (mt.Policy >= len(ps.Sources) || ps.Sources[mt.Policy] != mt.Source) {
			continue
		}
		sts := ps.Set.Policy(mt.Policy).Statements()
		if mt.Statement < len(sts) {
			return &sts[mt.Statement]
		}
	}
	return nil
}

// EncodeAuthorizationMessage seals m for an AccessDenied answer; only
// DecodeAuthorizationMessage reveals it. A message that would exceed MaxEncodedMessage loses
// detail (statement conditions, then context values, then the statements) until it fits.
func (k *Keyring) EncodeAuthorizationMessage(ctx context.Context, m *AuthorizationMessage) (string, error) {
	c := *m
	c.normalize()
	maxPlain := tokenEncoding.DecodedLen(MaxEncodedMessage) - overhead
	for step := 0; ; step++ {
		data, err := json.Marshal(&c)
		if err != nil {
			return "", fmt.Errorf("session: encode authorization message: %w", err)
		}
		if len(data) <= maxPlain {
			return k.seal(ctx, formatAuthMsg, data)
		}
		switch step {
		case 0:
			c.MatchedStatements.Items = append([]StatementInfo(nil), c.MatchedStatements.Items...)
			for i := range c.MatchedStatements.Items {
				c.MatchedStatements.Items[i].Conditions.Items = []KeyValues{}
			}
		case 1:
			c.Context.Conditions.Items = []KeyValues{}
		case 2:
			c.MatchedStatements.Items = []StatementInfo{}
		default:
			return "", errors.New("session: authorization message too large")
		}
	}
}

// DecodeAuthorizationMessage opens an encoded authorization message and returns its JSON, or
// ErrInvalidMessage.
func (k *Keyring) DecodeAuthorizationMessage(ctx context.Context, encoded string) (string, error) {
	if len(encoded) > MaxEncodedMessage {
		return "", ErrInvalidMessage
	}
	plain, err := k.open(ctx, formatAuthMsg, encoded, nil)
	if err != nil {
		return "", ErrInvalidMessage
	}
	return string(plain), nil
}

// EncodeDenial seals the explanation of the denied request req, made by p, as the encoded
// authorization message of its AccessDenied answer. It re-evaluates req with authz.Explain,
// which the fast path skips, so only denied requests pay for the matched statements.
func (k *Keyring) EncodeDenial(ctx context.Context, p *principal.Principal, req *authz.Request) (string, error) {
	return k.EncodeAuthorizationMessage(ctx, NewAuthorizationMessage(p, req, authz.Explain(req)))
}
