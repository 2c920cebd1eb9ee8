package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gatehouse-iam/gatehouse/policy"
)

// RequestJSON is the JSON form of a Request that `gatehouse policy eval --request` reads and
// the evaluation corpus under testdata/ is written in:
//
//	{"principal": ARN, "action": "svc:Action", "resource": ARN,
//	 "resourceAccount": "123456789012", "context": {"key": "value" or ["values"]},
//	 "identityPolicies": [docs], "resourcePolicy": doc, "permissionsBoundaries": [docs],
//	 "sessionPolicies": [docs], "serviceControlPolicies": [[docs of one level], ...],
//	 "resourceControlPolicies": [[...], ...]}
//
// The principal is any caller ParseCaller takes, or null (or absent) for an anonymous
// request. A context string is single-valued and an array multivalued; a JSON number or
// boolean is taken as its text. An absent (or null) list means no policy of that type: no
// boundary, no session policies, no organization; an empty list means the type is present
// with nothing in it (an empty organization level allows nothing, an empty session-policy
// list allows nothing). The resource policy is validated as a resource-based policy, or as a
// role trust policy when it is not a valid resource-based one.
type RequestJSON struct {
	// Name, Source and Want describe a case of the evaluation corpus: its name, the AWS page
	// it comes from and the decision AWS documents ("allowed", "explicitDeny",
	// "implicitDeny"); DeniedBy is the policy type AWS's message names. Build ignores them;
	// `policy eval --check` compares decisions with Want.
	Name     string `json:"name,omitempty"`
	Source   string `json:"source,omitempty"`
	Want     string `json:"want,omitempty"`
	DeniedBy string `json:"deniedBy,omitempty"`

	Principal               *string                    `json:"principal"`
	Action                  string                     `json:"action"`
	Resource                string                     `json:"resource"`
	ResourceAccount         string                     `json:"resourceAccount,omitempty"`
	Context                 map[string]json.RawMessage `json:"context,omitempty"`
	IdentityPolicies        []json.RawMessage          `json:"identityPolicies,omitempty"`
	ResourcePolicy          json.RawMessage            `json:"resourcePolicy,omitempty"`
	PermissionsBoundaries   []json.RawMessage          `json:"permissionsBoundaries,omitempty"`
	SessionPolicies         []json.RawMessage          `json:"sessionPolicies,omitempty"`
	ServiceControlPolicies  [][]json.RawMessage        `json:"serviceControlPolicies,omitempty"`
	ResourceControlPolicies [][]json.RawMessage        `json:"resourceControlPolicies,omitempty"`
}

// DecodeRequests reads one RequestJSON object or an array of them. Unknown fields are
// errors, so that a misspelt policy list is not silently left out.
func DecodeRequests(data []byte) ([]RequestJSON, error) {
	data = bytes.TrimSpace(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if len(data) > 0 && data[0] == '[' {
		var rs []RequestJSON
		if err := dec.Decode(&rs); err != nil {
			return nil, fmt.Errorf("decode requests: %w", err)
		}
		return rs, nil
	}
	var r RequestJSON
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode request: %w", err)
	}
	return []RequestJSON{r}, nil
}

// Build parses and compiles the request's policies into a Request. Policy sources are named
// after the fields, e.g. "identityPolicies[0]" or "serviceControlPolicies[1][0]".
func (j *RequestJSON) Build() (*Request, error) {
	if j.Action == "" {
		return nil, errors.New("request: action is required")
	}
	req := &Request{Action: j.Action, Resource: j.Resource, ResourceAccount: j.ResourceAccount}
	if req.Resource == "" {
		req.Resource = "*"
	}
	if j.Principal != nil {
		c, err := ParseCaller(*j.Principal)
		if err != nil {
			return nil, err
		}
		req.Caller = c
	}
	ctx, err := contextFromJSON(j.Context)
	if err != nil {
		return nil, err
	}
	req.Context = ctx
	if req.Identity, err = compileList(j.IdentityPolicies, "identityPolicies", IdentityPolicy, policy.Identity); err != nil {
		return nil, err
	}
	if req.Identity == nil {
		req.Identity = NewPolicies(nil, nil)
	}
	if len(j.ResourcePolicy) > 0 && !bytes.Equal(bytes.TrimSpace(j.ResourcePolicy), []byte("null")) {
		p, err := ParseResourcePolicy(j.ResourcePolicy)
		if err != nil {
			return nil, fmt.Errorf("resourcePolicy: %w", err)
		}
		req.ResourcePolicy = NewPolicies([]*policy.Policy{p}, []Source{{Type: ResourcePolicy, ID: "resourcePolicy"}})
	}
	if req.Boundary, err = compileList(j.PermissionsBoundaries, "permissionsBoundaries", BoundaryPolicy, policy.Identity); err != nil {
		return nil, err
	}
	if req.Session, err = compileList(j.SessionPolicies, "sessionPolicies", SessionPolicy, policy.Session); err != nil {
		return nil, err
	}
	if req.SCPs, err = compileLevels(j.ServiceControlPolicies, "serviceControlPolicies", SCPPolicy, policy.SCP); err != nil {
		return nil, err
	}
	if req.RCPs, err = compileLevels(j.ResourceControlPolicies, "resourceControlPolicies", RCPPolicy, policy.RCP); err != nil {
		return nil, err
	}
	return req, nil
}

// ParseResourcePolicy validates doc as a resource-based policy, or as a role trust policy
// when it is not a valid resource-based one (trust policies have no Resource element). The
// error is the resource-based one.
func ParseResourcePolicy(doc []byte) (*policy.Policy, error) {
	p, err := policy.Parse(doc, policy.Resource)
	if err == nil {
		return p, nil
	}
	if tp, terr := policy.Parse(doc, policy.Trust); terr == nil {
		return tp, nil
	}
	return nil, err
}

// compileList compiles a list of documents; nil stays nil (no policy of the type).
func compileList(docs []json.RawMessage, field string, t PolicyType, pt policy.Type) (*Policies, error) {
	if docs == nil {
		return nil, nil
	}
	ps := make([]*policy.Policy, 0, len(docs))
	srcs := make([]Source, 0, len(docs))
	for i, d := range docs {
		id := field + "[" + strconv.Itoa(i) + "]"
		p, err := policy.Parse(d, pt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		ps = append(ps, p)
		srcs = append(srcs, Source{Type: t, ID: id})
	}
	return NewPolicies(ps, srcs), nil
}

func compileLevels(levels [][]json.RawMessage, field string, t PolicyType, pt policy.Type) ([]*Policies, error) {
	if levels == nil {
		return nil, nil
	}
	out := make([]*Policies, 0, len(levels))
	for i, lv := range levels {
		if lv == nil {
			lv = []json.RawMessage{}
		}
		ps, err := compileList(lv, field+"["+strconv.Itoa(i)+"]", t, pt)
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

// contextFromJSON builds a context: strings are single-valued, arrays multivalued.
func contextFromJSON(m map[string]json.RawMessage) (*policy.Context, error) {
	ctx := &policy.Context{}
	for k, raw := range m {
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '[' {
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, fmt.Errorf("context key %s: %w", k, err)
			}
			vals := make([]string, 0, len(items))
			for _, it := range items {
				v, err := scalarText(it)
				if err != nil {
					return nil, fmt.Errorf("context key %s: %w", k, err)
				}
				vals = append(vals, v)
			}
			ctx.SetMulti(k, vals...)
			continue
		}
		v, err := scalarText(raw)
		if err != nil {
			return nil, fmt.Errorf("context key %s: %w", k, err)
		}
		ctx.Set(k, v)
	}
	return ctx, nil
}

// scalarText returns a JSON string's value, or a number's or boolean's text.
func scalarText(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch v.(type) {
	case string:
		return v.(string), nil
	case bool, float64:
		return string(bytes.TrimSpace(raw)), nil
	}
	return "", fmt.Errorf("a value must be a string, number or boolean, not %s", raw)
}
