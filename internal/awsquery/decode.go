package awsquery

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// formNode is one level of a Query form's dotted keys (Tags.member.1.Key).
type formNode struct {
	value    string
	hasValue bool
	children map[string]*formNode
}

func buildTree(form url.Values) (*formNode, error) {
	root := &formNode{}
	for key, vals := range form {
		if isProtocolParam(key) {
			continue
		}
		n := root
		for rest, more := key, true; more; {
			var part string
			part, rest, more = strings.Cut(rest, ".")
			if part == "" {
				return nil, ValidationError("The parameter name %q is not valid.", key)
			}
			if n.children == nil {
				n.children = map[string]*formNode{}
			}
			c := n.children[part]
			if c == nil {
				c = &formNode{}
				n.children[part] = c
			}
			n = c
		}
		if len(vals) > 1 {
			return nil, ValidationError("The parameter %s was given more than once.", key)
		}
		n.value, n.hasValue = vals[0], true
	}
	return root, nil
}

// isProtocolParam reports parameters that belong to the protocol or SigV4, not to the operation.
func isProtocolParam(key string) bool {
	return key == "Action" || key == "Version" || strings.HasPrefix(key, "X-Amz-") || strings.HasPrefix(key, "x-amz-")
}

// decoder collects every violation, as AWS reports them all in one ValidationError.
type decoder struct {
	violations []string
	// later is a check of the service's own (an IAM path), answered only when the input
	// satisfies every constraint of the model.
	later *Error
}

// violate records that the value of shape s at path fails constraint; value is nil when the
// member is missing.
func (d *decoder) violate(s *Shape, value *string, path, constraint string) {
	v := " null"
	switch {
	case s.Messages.HideValue:
		v = ""
	case value != nil:
		v = " '" + *value + "'"
	}
	d.violations = append(d.violations, fmt.Sprintf("Value%s at '%s' failed to satisfy constraint: %s", v, path, constraint))
}

// Decode fills dst (a pointer to the operation's aws-sdk-go-v2 input struct) from form,
// validating against the model's input shape: unknown parameters, types, required members,
// lengths, ranges, patterns and enums.
func Decode(op *OperationModel, form url.Values, dst any) error {
	tree, err := buildTree(form)
	if err != nil {
		return err
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("awsquery: Decode needs a pointer to a struct, got %T", dst)
	}
	if op.Input == nil {
		if len(tree.children) > 0 {
			for k := range tree.children {
				return ValidationError("The parameter %s is not recognized by %s.", k, op.Name)
			}
		}
		return nil
	}
	d := &decoder{}
	if err := d.structure(op.Input, tree, rv.Elem(), "", op.Name); err != nil {
		return err
	}
	switch n := len(d.violations); {
	case n == 1:
		return ValidationError("1 validation error detected: %s", d.violations[0])
	case n > 1:
		return ValidationError("%d validation errors detected: %s", n, strings.Join(d.violations, "; "))
	}
	if d.later != nil {
		return d.later
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return lowerFirst(name)
	}
	return prefix + "." + lowerFirst(name)
}

func (d *decoder) structure(s *Shape, n *formNode, v reflect.Value, path, opName string) error {
	for key := range n.children {
		if _, ok := s.Members[key]; !ok {
			where := opName
			if path != "" {
				where = path
			}
			return ValidationError("The parameter %s is not recognized as a member of %s.", key, where)
		}
	}
	fields, err := s.fieldsOf(v.Type())
	if err != nil {
		return err
	}
	for i, name := range s.Order {
		child := n.children[name]
		if child == nil {
			if s.Required[name] {
				d.violate(s.Members[name], nil, joinPath(path, name), "Member must not be null")
			}
			continue
		}
		if err := d.value(s.Members[name], child, v.FieldByIndex(fields[i]), joinPath(path, name), opName); err != nil {
			return err
		}
	}
	return nil
}

// value decodes one member into f, allocating pointers as needed.
func (d *decoder) value(s *Shape, n *formNode, f reflect.Value, path, opName string) error {
	if f.Kind() == reflect.Pointer {
		p := reflect.New(f.Type().Elem())
		if err := d.value(s, n, p.Elem(), path, opName); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	switch s.Type {
	case "structure":
		if n.hasValue && n.value != "" {
			return ValidationError("The parameter %s must be given as its members (%s.Member), not a value.", path, path)
		}
		return d.structure(s, n, f, path, opName)
	case "list":
		return d.list(s, n, f, path, opName)
	case "map":
		return d.mapValue(s, n, f, path, opName)
	}
	if len(n.children) > 0 {
		return ValidationError("The parameter %s is a single value and takes no members.", path)
	}
	return d.scalar(s, n.value, f, path)
}

func (d *decoder) list(s *Shape, n *formNode, f reflect.Value, path, opName string) error {
	// An empty list is sent as "Name=" with no members.
	var items []*formNode
	if len(n.children) > 0 {
		members := n.children["member"]
		if members == nil || len(n.children) != 1 {
			return ValidationError("The list parameter %s must be given as %s.member.N.", path, path)
		}
		// Indexes order the items; "01" and "1" name the same item, so both at once is an error.
		byIndex := make(map[int]*formNode, len(members.children))
		for k, item := range members.children {
			i, err := strconv.Atoi(k)
			if err != nil || i < 1 {
				return ValidationError("The list parameter %s has an invalid index %q; indexes start at 1.", path, k)
			}
			if byIndex[i] != nil {
				return ValidationError("The list parameter %s gives index %d more than once.", path, i)
			}
			byIndex[i] = item
		}
		for _, i := range slices.Sorted(maps.Keys(byIndex)) {
			items = append(items, byIndex[i])
		}
	} else if n.value != "" {
		return ValidationError("The list parameter %s must be given as %s.member.N.", path, path)
	}
	shown := strconv.Itoa(len(items))
	scalars := s.Member.Type != "structure" && s.Member.Type != "list" && s.Member.Type != "map"
	if scalars {
		// AWS shows a list of strings as Java prints it: [a, b].
		vals := make([]string, len(items))
		for i, item := range items {
			vals[i] = item.value
		}
		shown = "[" + strings.Join(vals, ", ") + "]"
	}
	d.lengthChecks(s, len(items), &shown, path)
	out := reflect.MakeSlice(f.Type(), len(items), len(items))
	// Items of a list of scalars are checked together, and a failing one is reported at the
	// list with every constraint of its members: "Value at 'tagKeys' failed to satisfy
	// constraint: Member must satisfy constraint: [Member must have length less than or equal
	// to 128, ...]".
	each := d
	if scalars {
		each = &decoder{}
	}
	for i, item := range items {
		ipath := fmt.Sprintf("%s.%d.member", path, i+1)
		if err := each.value(s.Member, item, out.Index(i), ipath, opName); err != nil {
			return err
		}
	}
	if scalars && len(each.violations) > 0 {
		d.violate(s, &shown, path, "Member must satisfy constraint: ["+strings.Join(memberConstraints(s), ", ")+"]")
	}
	if scalars && d.later == nil {
		d.later = each.later
	}
	f.Set(out)
	return nil
}

// memberConstraints lists the constraints of a list's members in the order AWS names them.
func memberConstraints(list *Shape) []string {
	m := list.Member
	var out []string
	if m.Max != nil {
		out = append(out, fmt.Sprintf("Member must have length less than or equal to %d", int(*m.Max)))
	}
	if m.Min != nil {
		out = append(out, fmt.Sprintf("Member must have length greater than or equal to %d", int(*m.Min)))
	}
	if m.RawPat != "" {
		out = append(out, "Member must satisfy regular expression pattern: "+m.RawPat)
	}
	if len(m.Enum) > 0 {
		out = append(out, "Member must satisfy enum value set: ["+strings.Join(m.Enum, ", ")+"]")
	}
	if list.Messages.MemberNotNull {
		out = append(out, "Member must not be null")
	}
	return out
}

func (d *decoder) mapValue(s *Shape, n *formNode, f reflect.Value, path, opName string) error {
	out := reflect.MakeMap(f.Type())
	if len(n.children) > 0 {
		entries := n.children["entry"]
		if entries == nil || len(n.children) != 1 {
			return ValidationError("The map parameter %s must be given as %s.entry.N.key and .value.", path, path)
		}
		for idx, e := range entries.children {
			kn, vn := e.children["key"], e.children["value"]
			if kn == nil || vn == nil || len(e.children) != 2 {
				return ValidationError("The map parameter %s.entry.%s needs exactly a key and a value.", path, idx)
			}
			k := reflect.New(f.Type().Key()).Elem()
			if err := d.value(s.Key, kn, k, path+".entry."+idx+".key", opName); err != nil {
				return err
			}
			v := reflect.New(f.Type().Elem()).Elem()
			if err := d.value(s.Value, vn, v, path+".entry."+idx+".value", opName); err != nil {
				return err
			}
			out.SetMapIndex(k, v)
		}
	}
	f.Set(out)
	return nil
}

func (d *decoder) lengthChecks(s *Shape, length int, shown *string, path string) {
	if s.Min != nil && float64(length) < *s.Min {
		d.violate(s, shown, path, fmt.Sprintf("Member must have length greater than or equal to %d", int(*s.Min)))
	}
	if s.Max != nil && float64(length) > *s.Max {
		d.violate(s, shown, path, fmt.Sprintf("Member must have length less than or equal to %d", int(*s.Max)))
	}
}

func (d *decoder) scalar(s *Shape, raw string, f reflect.Value, path string) error {
	switch s.Type {
	case "string":
		if !utf8.ValidString(raw) {
			return ValidationError("The parameter %s is not valid UTF-8.", path)
		}
		d.lengthChecks(s, utf8.RuneCountInString(raw), &raw, path)
		switch {
		case s.Pattern == nil || s.Pattern.MatchString(raw):
		case s.Messages.Path:
			if d.later == nil {
				d.later = ValidationError("%s", pathMessage(path[strings.LastIndexByte(path, '.')+1:]))
			}
		default:
			d.violate(s, &raw, path, "Member must satisfy regular expression pattern: "+s.RawPat)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, raw) {
			d.violate(s, &raw, path, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
		f.SetString(raw)
	case "integer", "long":
		i, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || f.OverflowInt(i) {
			return ValidationError("Value '%s' at '%s' failed to satisfy constraint: Member must be a whole number.", raw, path)
		}
		if s.Min != nil && float64(i) < *s.Min {
			d.violate(s, &raw, path, fmt.Sprintf("Member must have value greater than or equal to %d", int64(*s.Min)))
		}
		if s.Max != nil && float64(i) > *s.Max {
			d.violate(s, &raw, path, fmt.Sprintf("Member must have value less than or equal to %d", int64(*s.Max)))
		}
		f.SetInt(i)
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil || (raw != "true" && raw != "false") {
			return ValidationError("Value '%s' at '%s' failed to satisfy constraint: Member must be true or false.", raw, path)
		}
		f.SetBool(b)
	case "timestamp":
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return ValidationError("Value '%s' at '%s' failed to satisfy constraint: Member must be an ISO-8601 timestamp.", raw, path)
		}
		f.Set(reflect.ValueOf(t))
	case "blob":
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return ValidationError("Value at '%s' failed to satisfy constraint: Member must be base64-encoded.", path)
		}
		d.lengthChecks(s, len(b), nil, path)
		f.SetBytes(b)
	default:
		return fmt.Errorf("awsquery: unsupported shape type %q at %s", s.Type, path)
	}
	return nil
}
