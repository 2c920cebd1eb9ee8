package audit

import (
	"reflect"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
)

// responseTimeFormat is how IAM's and STS's CloudTrail records write the dates of their
// responses (createDate, expiration): "Oct 13, 2023, 8:58:34 PM", in UTC.
const responseTimeFormat = "Jan 2, 2006, 3:04:05 PM"

// ResponseElements returns CloudTrail's responseElements of a call of op that succeeded: out is
// the operation's aws-sdk-go-v2 output struct (or a pointer to it). Members are named as in
// Parameters (first letter lower-cased), dates as IAM's records write them, and secrets (the
// models' sensitive shapes, such as a new access key's SecretAccessKey or STS credentials'
// SecretAccessKey, and session tokens) as Hidden. It returns nil (null) when the output has
// nothing to show; CloudTrail writes null for calls that only read, and callers may pass nil
// for those.
func ResponseElements(op *awsquery.OperationModel, out any) any {
	if op == nil || op.Output == nil || out == nil {
		return nil
	}
	v := reflect.ValueOf(out)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	m, _ := outStructure(op.Output, v).(map[string]any)
	if len(m) == 0 {
		return nil
	}
	return m
}

// goField is the aws-sdk-go-v2 field of a model member (the STS model spells some members in
// lower case, such as "arn").
func goField(member string) string {
	if member == "" {
		return member
	}
	return strings.ToUpper(member[:1]) + member[1:]
}

func outStructure(s *awsquery.Shape, v reflect.Value) any {
	out := map[string]any{}
	for _, name := range s.Order {
		f := v.FieldByName(goField(name))
		if !f.IsValid() {
			continue
		}
		ms := s.Members[name]
		val, ok := outValue(ms, f)
		if !ok {
			continue
		}
		if sensitiveMembers[name] || sensitiveShapes[ms.Name] {
			val = Hidden
		}
		out[lowerFirst(name)] = val
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// outValue is the JSON value of one output member; false when it is absent (a nil pointer,
// slice or map).
func outValue(s *awsquery.Shape, v reflect.Value) (any, bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	if sensitiveShapes[s.Name] {
		return Hidden, true
	}
	if v.Type() == timeType {
		return v.Interface().(time.Time).UTC().Format(responseTimeFormat), true
	}
	switch v.Kind() {
	case reflect.Struct:
		return outStructure(s, v), true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 { // a blob
			return string(v.Bytes()), true
		}
		if s.Member == nil {
			return nil, false
		}
		items := make([]any, 0, v.Len())
		for i := range v.Len() {
			if item, ok := outValue(s.Member, v.Index(i)); ok {
				items = append(items, item)
			}
		}
		return items, true
	case reflect.Map:
		if v.IsNil() || s.Value == nil {
			return nil, false
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			if val, ok := outValue(s.Value, it.Value()); ok {
				m[it.Key().String()] = val
			}
		}
		return m, true
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return nil, false
}
