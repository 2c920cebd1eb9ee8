package audit

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
)

// sensitiveShapes are the shapes the AWS API models of IAM and STS mark "sensitive": true
// (botocore 1.43.11's iam/2010-05-08 and sts/2011-06-15 service-2.json; the trimmed models
// Gatehouse embeds drop the flag, and TestSensitiveShapes compares this list with botocore's
// models where they are installed). Their values are written as Hidden.
var sensitiveShapes = map[string]bool{
	// IAM
	"BootstrapDatum":          true, // a virtual MFA device's seed and QR code
	"accessKeySecretType":     true, // also STS's
	"passwordType":            true,
	"privateKeyType":          true,
	"serviceCredentialSecret": true,
	"servicePassword":         true,
	// STS
	"SAMLAssertionType":    true,
	"clientTokenType":      true, // AssumeRoleWithWebIdentity's WebIdentityToken
	"tradeInTokenType":     true,
	"webIdentityTokenType": true,
}

// sensitiveMembers are members whose values are secrets though the models do not mark their
// shapes: the one-time MFA codes (EnableMFADevice, ResyncMFADevice, GetSessionToken,
// AssumeRole...), and session tokens.
var sensitiveMembers = map[string]bool{
	"AuthenticationCode1": true,
	"AuthenticationCode2": true,
	"TokenCode":           true,
	"SessionToken":        true,
}

// formTree is one level of a Query form's dotted keys (Tags.member.1.Key).
type formTree struct {
	value    string
	hasValue bool
	children map[string]*formTree
}

// notParameter reports whether a form key is the protocol's (the action, the version, a
// presigned request's signature) rather than the operation's.
func notParameter(key string) bool {
	return key == "Action" || key == "Version" || strings.HasPrefix(key, "X-Amz-") || strings.HasPrefix(key, "x-amz-")
}

func buildForm(form url.Values) *formTree {
	root := &formTree{}
	for key, vals := range form {
		if notParameter(key) || len(vals) == 0 {
			continue
		}
		n := root
		for part := range strings.SplitSeq(key, ".") {
			if n.children == nil {
				n.children = map[string]*formTree{}
			}
			c := n.children[part]
			if c == nil {
				c = &formTree{}
				n.children[part] = c
			}
			n = c
		}
		n.value, n.hasValue = vals[0], true
	}
	return root
}

// Parameters returns CloudTrail's requestParameters of a Query request of op: each member the
// form gives, under its name with the first letter lower-cased (CloudTrail writes
// {"userName":"bob","path":"/"}), lists as JSON arrays, maps as JSON objects, numbers and
// booleans as JSON numbers and booleans, and every secret (the models' sensitive shapes, the
// MFA codes) as Hidden. Parameters the model does not know are left out. It returns nil when
// the request has no parameters: CloudTrail writes null.
func Parameters(op *awsquery.OperationModel, form url.Values) map[string]any {
	if op == nil || op.Input == nil || len(form) == 0 {
		return nil
	}
	out, ok := flatParameters(op.Input, form)
	if !ok {
		out, _ = structure(op.Input, buildForm(form)).(map[string]any)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// flatParameters is Parameters of a form whose members are all scalars at the top (GetUser's
// UserName, CreateUser's UserName and Path: most calls), without building the form's tree; ok
// is false when the form has a dotted key or gives a list, map or structure member, which the
// tree walk answers.
func flatParameters(input *awsquery.Shape, form url.Values) (out map[string]any, ok bool) {
	for key := range form {
		if strings.IndexByte(key, '.') >= 0 {
			return nil, false
		}
	}
	out = make(map[string]any, len(form))
	for _, name := range input.Order {
		vals := form[name]
		if len(vals) == 0 || notParameter(name) {
			continue
		}
		ms := input.Members[name]
		switch {
		case sensitiveMembers[name] || sensitiveShapes[ms.Name]:
			out[lowerFirst(name)] = Hidden
		case ms.Type == "structure" || ms.Type == "list" || ms.Type == "map":
			return nil, false
		default:
			out[lowerFirst(name)], _ = value(ms, &formTree{value: vals[0], hasValue: true})
		}
	}
	return out, true
}

// lowerFirst is CloudTrail's name of a model member.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	if s[0] < 'A' || s[0] > 'Z' {
		return strings.ToLower(s[:1]) + s[1:]
	}
	// One allocation where ToLower and + make two.
	var b strings.Builder
	b.Grow(len(s))
	b.WriteByte(s[0] + 'a' - 'A')
	b.WriteString(s[1:])
	return b.String()
}

func structure(s *awsquery.Shape, n *formTree) any {
	out := map[string]any{}
	for _, name := range s.Order {
		child := n.children[name]
		if child == nil {
			continue
		}
		ms := s.Members[name]
		if sensitiveMembers[name] || sensitiveShapes[ms.Name] {
			out[lowerFirst(name)] = Hidden
			continue
		}
		if v, ok := value(ms, child); ok {
			out[lowerFirst(name)] = v
		}
	}
	return out
}

// value is the JSON value of one member; false when the form's value does not fit the shape.
func value(s *awsquery.Shape, n *formTree) (any, bool) {
	if sensitiveShapes[s.Name] {
		return Hidden, true
	}
	switch s.Type {
	case "structure":
		return structure(s, n), true
	case "list":
		items := numbered(n.children["member"])
		out := make([]any, 0, len(items))
		for _, it := range items {
			if v, ok := value(s.Member, it); ok {
				out = append(out, v)
			}
		}
		return out, true
	case "map":
		out := map[string]any{}
		for _, e := range numbered(n.children["entry"]) {
			k, v := e.children["key"], e.children["value"]
			if k == nil || !k.hasValue || v == nil {
				continue
			}
			if val, ok := value(s.Value, v); ok {
				out[k.value] = val
			}
		}
		return out, true
	}
	if !n.hasValue {
		return nil, false
	}
	switch s.Type {
	case "integer", "long":
		if i, err := strconv.ParseInt(n.value, 10, 64); err == nil {
			return i, true
		}
		return n.value, true
	case "boolean":
		if b, err := strconv.ParseBool(n.value); err == nil {
			return b, true
		}
		return n.value, true
	}
	return n.value, true
}

// numbered returns the children of n named 1, 2, 3... in numeric order (a Query list's members
// or a map's entries); an empty list ("Name.member" absent or "Name=") has none.
func numbered(n *formTree) []*formTree {
	if n == nil {
		return nil
	}
	type item struct {
		i int
		n *formTree
	}
	var items []item
	for k, c := range n.children {
		if i, err := strconv.Atoi(k); err == nil && i > 0 {
			items = append(items, item{i, c})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return a.i - b.i })
	out := make([]*formTree, len(items))
	for i, it := range items {
		out[i] = it.n
	}
	return out
}

// ReadOnly reports whether an action ("iam:GetUser") only reads: its access level in the
// Service Authorization Reference is Read or List. An unknown action is not read-only.
func ReadOnly(action string) bool {
	ref, err := servicedata.Load()
	if err != nil {
		return false
	}
	a, ok := ref.Action(action)
	if !ok {
		return false
	}
	switch a.Level() {
	case "Read", "List":
		return true
	}
	return false
}

// SensitiveShapes returns the names of the model shapes whose values are hidden, sorted.
func SensitiveShapes() []string {
	return slices.Sorted(maps.Keys(sensitiveShapes))
}
