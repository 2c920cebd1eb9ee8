package policy

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/policy/condition"
)

// AWS's MalformedPolicyDocument messages.
const (
	msgSyntax            = "Syntax errors in policy."
	msgVersion           = "Policy document must be version 2012-10-17 or greater."
	msgLegacy            = "The policy failed legacy parsing"
	msgSidUnique         = "Statement IDs (SID) in a single policy must be unique."
	msgNoActions         = "Policy statement must contain actions."
	msgNoResources       = "Policy statement must contain resources."
	msgPrincipalNotAllow = "Policy document should not specify a principal."
	msgMissingPrincipal  = "Missing required field Principal"
	msgTrustActions      = "AssumeRole policy may only specify STS AssumeRole actions."
	msgActionVendor      = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgActionColons      = "Actions/Condition can contain only one colon."
	msgResourceVendor    = "Resource vendor must be fully qualified and cannot contain regexes."
)

// Policy is a parsed, validated and compiled policy document. It is immutable and safe for
// concurrent use.
type Policy struct {
	typ        Type
	version    Version // as written; "" when the document has none
	id         string
	doc        []byte
	statements []Statement
	compiled   []stmt
}

// Type returns the type the policy was parsed as.
func (p *Policy) Type() Type { return p.typ }

// Version returns the Version element ("" when absent).
func (p *Policy) Version() Version { return p.version }

// ID returns the Id element.
func (p *Policy) ID() string { return p.id }

// Document returns the document the policy was parsed from. The caller must not modify it.
func (p *Policy) Document() []byte { return p.doc }

// Statements returns the policy's statements in document order. The caller must not modify
// them.
func (p *Policy) Statements() []Statement { return p.statements }

// Parse validates doc as IAM validates a policy of type t and compiles it. An invalid document
// gives an *Error whose Message is the MalformedPolicyDocument message AWS returns. Size quotas
// are the caller's: see Size.
func Parse(doc []byte, t Type) (*Policy, error) { return parse(doc, t, false) }

// ParseStored is Parse for a document that was valid when it was stored: it leaves out the
// checks added since (repeated keys, where the last one wins as it did then, and numbers
// beyond float64's range), as AWS keeps policies saved before its own checks working
// ("Troubleshoot IAM policies"). A store must not fail closed on a policy it once accepted.
func ParseStored(doc []byte, t Type) (*Policy, error) { return parse(doc, t, true) }

func parse(doc []byte, t Type, stored bool) (*Policy, error) {
	p := &Policy{typ: t, doc: append([]byte(nil), doc...)}
	root, err := decodeJSON(p.doc)
	if err != nil {
		return nil, &Error{Message: msgSyntax, Statement: -1}
	}
	v := &validator{p: p, root: root, stored: stored}
	if err := v.run(); err != nil {
		return nil, err
	}
	p.compile()
	return p, nil
}

// MustParse is Parse for documents known to be valid, such as AWS managed policies shipped
// with the program; it panics on an invalid document.
func MustParse(doc string, t Type) *Policy {
	p, err := Parse([]byte(doc), t)
	if err != nil {
		panic("policy: MustParse: " + err.Error())
	}
	return p
}

type validator struct {
	p     *Policy
	root  *node
	nodes []*node // statement objects, parallel to p.statements
	// stored leaves out the checks newer than the stored documents (see ParseStored).
	stored bool
}

func (v *validator) fail(msg string, stmt int, n *node) error {
	e := &Error{Message: msg, Statement: stmt}
	if n != nil {
		e.Pos = position(v.p.doc, n.start)
	}
	return e
}

// run checks the document in the order IAM does, so that a document with several problems
// gets the message AWS gives for it.
func (v *validator) run() error {
	if err := v.syntax(); err != nil {
		return err
	}
	p := v.p
	// Version.
	switch p.typ {
	case Identity, SCP, Session, RCP:
		if p.version != V20121017 {
			return v.fail(msgVersion, -1, v.root.get("Version"))
		}
	}
	// "Legacy parsing": exact Effect spelling, date condition values, resource shapes.
	for i, n := range v.nodes {
		if eff := n.get("Effect"); eff.str != "Allow" && eff.str != "Deny" {
			return v.fail(msgLegacy, i, eff)
		}
		for _, c := range p.statements[i].Condition {
			op, _ := condition.ParseOperator(c.Operator)
			if op.Family != condition.Date {
				continue
			}
			for _, val := range c.Values {
				if _, err := condition.ParseDate(val); err != nil {
					return v.fail(msgLegacy, i, n.get("Condition"))
				}
			}
		}
	}
	resErr := ""
	resErrStmt := -1
	for i := range p.statements {
		s := &p.statements[i]
		if !s.HasResource {
			continue
		}
		// IAM reports the lexically smallest bad resource of a list.
		sorted := append([]string(nil), s.Resource...)
		sort.Sort(sort.Reverse(sort.StringSlice(sorted)))
		bad := ""
		for _, r := range sorted {
			if m := resourceFormatError(r); m != "" {
				bad = m
			}
		}
		if bad != "" {
			resErr, resErrStmt = bad, i
			continue
		}
		if resErr == "" {
			for _, r := range s.Resource {
				if r == "*" {
					continue
				}
				parts := strings.Split(r, ":")
				if (strings.Count(r, ":") < 5 && strings.Contains(r, "::")) || len(parts) < 3 || parts[2] == "" {
					return v.fail(msgLegacy, i, v.nodes[i])
				}
			}
		}
	}
	// Principal requirements of the policy type.
	for i := range p.statements {
		s := &p.statements[i]
		switch {
		case p.typ.needsPrincipal() && s.Principal == nil:
			return v.fail(msgMissingPrincipal, i, v.nodes[i])
		case !p.typ.needsPrincipal() && s.Principal != nil:
			return v.fail(msgPrincipalNotAllow, i, v.principalNode(i))
		case p.typ == Trust && s.HasResource:
			field := "Resource"
			if s.NotResource {
				field = "NotResource"
			}
			return v.fail("Has prohibited field "+field, i, v.nodes[i].get(field))
		}
	}
	// Statement ids.
	seen := map[string]bool{}
	for i := range p.statements {
		sid := p.statements[i].Sid
		if sid == "" {
			continue
		}
		if seen[sid] {
			return v.fail(msgSidUnique, i, v.nodes[i].get("Sid"))
		}
		seen[sid] = true
	}
	for i := range p.statements {
		if len(p.statements[i].Action) == 0 {
			return v.fail(msgNoActions, i, v.nodes[i])
		}
	}
	if p.typ != Trust {
		for i := range p.statements {
			if len(p.statements[i].Resource) == 0 {
				return v.fail(msgNoResources, i, v.nodes[i])
			}
		}
	}
	if resErr != "" {
		return v.fail(resErr, resErrStmt, v.nodes[resErrStmt])
	}
	for i := range p.statements {
		for _, a := range p.statements[i].Action {
			if m := actionError(a); m != "" {
				return v.fail(m, i, v.nodes[i])
			}
		}
	}
	if p.typ == Trust {
		for i := range p.statements {
			s := &p.statements[i]
			if s.NotAction {
				continue
			}
			for _, a := range s.Action {
				if !isTrustAction(a) {
					return v.fail(msgTrustActions, i, v.nodes[i])
				}
			}
		}
	}
	for i := range p.statements {
		if s := p.statements[i].Principal; s != nil {
			if m := principalError(s, p.typ); m != "" {
				return v.fail(m, i, v.principalNode(i))
			}
		}
	}
	// AWS documents nothing for the conditions below; evaluation could only guess at their
	// meaning, so they are refused last, after every check IAM is known to make.
	for i, n := range v.nodes {
		if c := n.get("Condition"); c != nil && !v.stored {
			if m, at := conditionError(c); m != "" {
				return v.fail(m, i, at)
			}
		}
	}
	return nil
}

// maxNumber is the largest magnitude a number in a policy may have: numeric conditions compare
// float64s, and a larger number would compare as infinity.
var maxNumber = strconv.FormatFloat(math.MaxFloat64, 'g', -1, 64)

// conditionError returns a message, and where, for a Condition element (of valid syntax) that
// repeats a condition key of one block in another capitalization (keys are case-insensitive;
// IAM Access Analyzer reports it as the error "Duplicate keys with different case"), or holds
// a number beyond the range of a float64: a JSON number anywhere, or a value of a Numeric
// operator written as a number.
func conditionError(c *node) (string, *node) {
	for j, opName := range c.keys {
		op, err := condition.ParseOperator(opName)
		if err != nil {
			continue // an unknown operator with nothing in it, which IAM ignores
		}
		block := c.vals[j]
		var seen keySet
		lower := make([]string, 0, len(block.keys))
		for k, key := range block.keys {
			l := strings.ToLower(key)
			if seen.repeats(lower, l) {
				return "The condition key " + key + " appears more than once with different capitalization in the same condition block " + opName + ". Remove the duplicate condition keys.", block
			}
			lower = append(lower, l)
			vals := []*node{block.vals[k]}
			if vals[0].kind == nArray {
				vals = vals[0].elems
			}
			for _, val := range vals {
				if (val.kind == nNumber || op.Family == condition.Numeric) && outOfRange(val.str) {
					return "The number " + val.str + " for the condition operator " + opName + " on key " + key +
						" is out of range: a number in a policy must be between -" + maxNumber + " and " + maxNumber + ".", block
				}
			}
		}
	}
	return "", nil
}

// outOfRange reports whether s is written as a number that a float64 does not hold: one that
// overflows, or an infinity or NaN spelled out. Evaluation could not compare it.
func outOfRange(s string) bool {
	if _, ok := condition.ParseNumber(s); ok {
		return false
	}
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

func (v *validator) principalNode(i int) *node {
	if n := v.nodes[i].get("Principal"); n != nil {
		return n
	}
	return v.nodes[i].get("NotPrincipal")
}

var (
	topFields       = map[string]bool{"Version": true, "Id": true, "Statement": true}
	statementFields = map[string]bool{
		"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true,
		"NotAction": true, "Resource": true, "NotResource": true, "Condition": true,
	}
)

var errStop = errors.New("syntax")

// syntax checks the grammar and fills p.statements.
func (v *validator) syntax() error {
	root := v.root
	p := v.p
	bad := func(n *node) error { return v.fail(msgSyntax, -1, n) }
	if root.kind != nObject {
		return bad(root)
	}
	// "Individual elements must not contain multiple instances of the same key" (IAM User
	// Guide, policy grammar notes); IAM refuses them in new and edited policies as syntax
	// errors (Troubleshoot IAM policies: more than one Statement, Effect, Action or Resource).
	if off := firstDuplicateKey(root); off > 0 && !v.stored {
		return &Error{Message: msgSyntax, Statement: -1, Pos: position(v.p.doc, stringStart(v.p.doc, off))}
	}
	for _, k := range root.keys {
		if !topFields[k] {
			return bad(root)
		}
	}
	if n := root.get("Version"); n != nil {
		if n.kind != nString || (n.str != string(V20121017) && n.str != string(V20081017)) {
			return bad(n)
		}
		p.version = Version(n.str)
	}
	if n := root.get("Id"); n != nil {
		if n.kind != nString {
			return bad(n)
		}
		p.id = n.str
	}
	st := root.get("Statement")
	if st == nil {
		return bad(root)
	}
	switch st.kind {
	case nObject:
		v.nodes = []*node{st}
	case nArray:
		v.nodes = st.elems
	default:
		return bad(st)
	}
	if len(v.nodes) == 0 {
		return bad(st)
	}
	for i, n := range v.nodes {
		s, err := v.statement(i, n)
		if err != nil {
			return err
		}
		p.statements = append(p.statements, s)
	}
	return nil
}

func (v *validator) statement(i int, n *node) (Statement, error) {
	bad := func(at *node) (Statement, error) { return Statement{}, v.fail(msgSyntax, i, at) }
	if n.kind != nObject {
		return bad(n)
	}
	for _, k := range n.keys {
		if !statementFields[k] {
			return bad(n)
		}
	}
	s := Statement{
		Start: position(v.p.doc, n.start),
		End:   position(v.p.doc, n.end),
	}
	if n.get("Action") != nil && n.get("NotAction") != nil ||
		n.get("Resource") != nil && n.get("NotResource") != nil ||
		n.get("Principal") != nil && n.get("NotPrincipal") != nil {
		return bad(n)
	}
	eff := n.get("Effect")
	if eff == nil || eff.kind != nString {
		return bad(n)
	}
	switch strings.ToLower(eff.str) {
	case "allow":
		s.Effect = Allow
	case "deny":
		s.Effect = Deny
	default:
		return bad(eff)
	}
	if sid := n.get("Sid"); sid != nil {
		if sid.kind != nString {
			return bad(sid)
		}
		s.Sid = sid.str
	}
	var ok bool
	for _, f := range []string{"Action", "NotAction"} {
		if a := n.get(f); a != nil {
			if s.Action, ok = stringList(a); !ok {
				return bad(a)
			}
			s.NotAction = f == "NotAction"
		}
	}
	for _, f := range []string{"Resource", "NotResource"} {
		if r := n.get(f); r != nil {
			if s.Resource, ok = stringList(r); !ok {
				return bad(r)
			}
			s.NotResource = f == "NotResource"
			s.HasResource = true
		}
	}
	for _, f := range []string{"Principal", "NotPrincipal"} {
		if pn := n.get(f); pn != nil {
			spec, ok := principalSpec(pn)
			if !ok {
				return bad(pn)
			}
			s.Principal = spec
			s.NotPrincipal = f == "NotPrincipal"
		}
	}
	if c := n.get("Condition"); c != nil {
		if c.kind != nObject {
			return bad(c)
		}
		for j, opName := range c.keys {
			block := c.vals[j]
			if block.kind != nObject {
				return bad(block)
			}
			if _, err := condition.ParseOperator(opName); err != nil {
				// IAM ignores an unknown operator with nothing in it.
				if len(block.keys) == 0 {
					continue
				}
				return bad(block)
			}
			for k, key := range block.keys {
				vals, ok := conditionValues(block.vals[k])
				if !ok {
					return bad(block.vals[k])
				}
				s.Condition = append(s.Condition, ConditionSpec{Operator: opName, Key: key, Values: vals})
			}
		}
	}
	return s, nil
}

// stringList reads a string or an array of strings.
func stringList(n *node) ([]string, bool) {
	switch n.kind {
	case nString:
		return []string{n.str}, true
	case nArray:
		out := make([]string, 0, len(n.elems))
		for _, e := range n.elems {
			if e.kind != nString {
				return nil, false
			}
			out = append(out, e.str)
		}
		return out, true
	}
	return nil, false
}

// conditionValues reads a condition value: a string, number or boolean, or an array of them.
func conditionValues(n *node) ([]string, bool) {
	switch n.kind {
	case nString, nNumber, nBool:
		return []string{n.str}, true
	case nArray:
		out := make([]string, 0, len(n.elems))
		for _, e := range n.elems {
			switch e.kind {
			case nString, nNumber, nBool:
				out = append(out, e.str)
			default:
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

func principalSpec(n *node) (*PrincipalSpec, bool) {
	if n.kind == nString {
		if n.str == "*" {
			return &PrincipalSpec{Any: true}, true
		}
		return nil, false
	}
	if n.kind != nObject || len(n.keys) == 0 {
		return nil, false
	}
	spec := &PrincipalSpec{}
	for i, k := range n.keys {
		vals, ok := stringList(n.vals[i])
		if !ok {
			return nil, false
		}
		switch k {
		case "AWS":
			for _, v := range vals {
				if v == "*" {
					spec.Any = true
				}
			}
			spec.AWS = vals
		case "Service":
			spec.Service = vals
		case "Federated":
			spec.Federated = vals
		case "CanonicalUser":
			spec.CanonicalUser = vals
		default:
			return nil, false
		}
	}
	return spec, true
}

var partitions = map[string]bool{
	"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true, "aws-iso-b": true,
	"aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true,
}

var iamResourcePrefixes = []string{
	"user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
	"server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/",
	"access-report/",
}

// resourceFormatError returns IAM's message for a Resource value that is not "*" or an ARN.
func resourceFormatError(r string) string {
	if r == "*" {
		return ""
	}
	_, rest, ok := strings.Cut(r, ":")
	if !ok {
		return "Resource " + r + ` must be in ARN format or "*".`
	}
	part, rest, hasService := strings.Cut(rest, ":")
	if !partitions[part] {
		f := strings.Split(rest, ":")
		get := func(i int) string {
			if i < len(f) && (f[i] != "" || len(f) > 1) {
				if i == 3 {
					return strings.Join(f[3:], ":")
				}
				return f[i]
			}
			return "*"
		}
		if !hasService {
			f = nil
		}
		return `Partition "` + part + `" is not valid for resource "arn:` + part + ":" + get(0) + ":" + get(1) + ":" + get(2) + ":" + get(3) + `".`
	}
	if !hasService {
		return msgResourceVendor
	}
	service, rest, _ := strings.Cut(rest, ":")
	region, rest, _ := strings.Cut(rest, ":")
	account, res, _ := strings.Cut(rest, ":")
	switch service {
	case "iam":
		if region != "" {
			return "IAM resource " + r + " cannot contain region information."
		}
		if res == "*" || strings.Contains(r, "${") {
			return ""
		}
		for _, pfx := range iamResourcePrefixes {
			if strings.HasPrefix(res, pfx) || arn.Glob(res, pfx+"x", false) {
				return ""
			}
		}
		return `IAM resource path must either be "*" or start with ` + strings.Join(iamResourcePrefixes, ", ") + "."
	case "s3":
		// Buckets and objects have no region; access points (with an account) do.
		if region != "" && account == "" {
			return "Resource " + r + " can not contain region information."
		}
	}
	return ""
}

// actionError returns IAM's message for an Action value that is not "*" or "service:action".
func actionError(a string) string {
	parts := strings.Split(a, ":")
	switch {
	case len(parts) == 1 && parts[0] != "*":
		return msgActionVendor
	case len(parts) > 2:
		return msgActionColons
	}
	vendor := parts[0]
	if vendor == "*" {
		return ""
	}
	for _, c := range vendor {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "Vendor " + vendor + " is not valid"
		}
	}
	return ""
}

// trustActions are the actions a role trust policy may grant.
var trustActions = []string{
	"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
	"sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext",
}

func isTrustAction(pattern string) bool {
	for _, a := range trustActions {
		if arn.Glob(pattern, a, true) {
			return true
		}
	}
	return false
}

// principalError validates the values of a Principal element.
func principalError(s *PrincipalSpec, t Type) string {
	invalid := func(kind, v string) string {
		return `Invalid principal in policy: "` + kind + `":"` + v + `"`
	}
	if t == RCP {
		if !s.Any || len(s.Service)+len(s.Federated)+len(s.CanonicalUser) > 0 {
			return "Invalid principal in policy"
		}
		return ""
	}
	for _, v := range s.AWS {
		if v == "*" || IsAccountID(v) || IsPrincipalID(v) {
			continue
		}
		a, err := arn.Parse(v)
		if err != nil || (a.Service != "iam" && a.Service != "sts") || arn.HasWildcard(v) ||
			!partitions[a.Partition] || a.Region != "" || !IsAccountID(a.Account) {
			return invalid("AWS", v)
		}
	}
	for _, v := range s.Service {
		if v == "" || arn.HasWildcard(v) || strings.ContainsAny(v, " :/") {
			return invalid("Service", v)
		}
	}
	for _, v := range s.Federated {
		if v == "" || arn.HasWildcard(v) {
			return invalid("Federated", v)
		}
		if strings.HasPrefix(v, "arn:") {
			a, err := arn.Parse(v)
			if err != nil || a.Service != "iam" ||
				!(strings.HasPrefix(a.Resource, "saml-provider/") || strings.HasPrefix(a.Resource, "oidc-provider/")) {
				return invalid("Federated", v)
			}
		}
	}
	for _, v := range s.CanonicalUser {
		if v == "" || arn.HasWildcard(v) {
			return invalid("CanonicalUser", v)
		}
	}
	return ""
}
