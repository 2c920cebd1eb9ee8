package awsquery

import (
	"fmt"
	"reflect"
)

// fieldIndex is where a structure member lives in its aws-sdk-go-v2 struct.
type fieldIndex []int

// fieldsOf returns the field of each member of s, in s.Order, for struct type t. It looks
// them up by name once per type: reflect.Value.FieldByName on every request was the
// encoder's largest cost.
func (s *Shape) fieldsOf(t reflect.Type) ([]fieldIndex, error) {
	if cached, ok := s.fields.Load(t); ok {
		return cached.([]fieldIndex), nil
	}
	out := make([]fieldIndex, len(s.Order))
	for i, name := range s.Order {
		f, ok := t.FieldByName(goFieldName(name))
		if !ok {
			return nil, fmt.Errorf("awsquery: %s has no field %s", t, name)
		}
		out[i] = f.Index
	}
	s.fields.Store(t, out)
	return out, nil
}
