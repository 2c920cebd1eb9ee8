package awsquery

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// TimeFormat is how AWS Query services write timestamps.
const TimeFormat = "2006-01-02T15:04:05Z"

// EncodeDocument percent-encodes a policy document the way IAM returns documents (RFC 3986,
// spaces as %20), which the AWS CLI and SDK helpers decode.
func EncodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// EncodeResponse writes the XML body of a successful response: out is the operation's
// aws-sdk-go-v2 output struct (or nil for operations without output).
func EncodeResponse(buf *bytes.Buffer, namespace string, op *OperationModel, out any, requestID string) error {
	fmt.Fprintf(buf, `<%sResponse xmlns="%s">`, op.Name, namespace)
	if op.Output != nil && op.ResultWrapper != "" {
		buf.WriteString("<" + op.ResultWrapper + ">")
		if out != nil {
			rv := reflect.ValueOf(out)
			if rv.Kind() == reflect.Pointer {
				rv = rv.Elem()
			}
			if err := encodeMembers(buf, op.Output, rv); err != nil {
				return err
			}
		}
		buf.WriteString("</" + op.ResultWrapper + ">")
	}
	buf.WriteString("<ResponseMetadata><RequestId>" + requestID + "</RequestId></ResponseMetadata>")
	fmt.Fprintf(buf, "</%sResponse>", op.Name)
	return nil
}

// EncodeError writes AWS's ErrorResponse body.
func EncodeError(buf *bytes.Buffer, namespace string, e *Error, requestID string) {
	kind := "Receiver"
	if e.Sender {
		kind = "Sender"
	}
	fmt.Fprintf(buf, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>`, namespace, kind)
	escape(buf, e.Code)
	buf.WriteString("</Code><Message>")
	escape(buf, e.Message)
	buf.WriteString("</Message></Error><RequestId>" + requestID + "</RequestId></ErrorResponse>")
}

func escape(buf *bytes.Buffer, s string) {
	_ = xml.EscapeText(buf, []byte(s)) // writes to a bytes.Buffer cannot fail
}

func encodeMembers(buf *bytes.Buffer, s *Shape, v reflect.Value) error {
	for _, name := range s.Order {
		f := v.FieldByName(goFieldName(name))
		if !f.IsValid() {
			return fmt.Errorf("awsquery: %s has no field %s", v.Type(), name)
		}
		if err := encodeValue(buf, name, s.Members[name], f, s.Required[name]); err != nil {
			return err
		}
	}
	return nil
}

func encodeValue(buf *bytes.Buffer, name string, s *Shape, f reflect.Value, required bool) error {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return nil
		}
		f = f.Elem()
	}
	switch s.Type {
	case "structure":
		buf.WriteString("<" + name + ">")
		if err := encodeMembers(buf, s, f); err != nil {
			return err
		}
		buf.WriteString("</" + name + ">")
	case "list":
		// AWS writes required lists even when empty (<Users/>); optional empty ones are left out.
		if f.Len() == 0 && (f.IsNil() && !required) {
			return nil
		}
		buf.WriteString("<" + name + ">")
		for i := 0; i < f.Len(); i++ {
			if err := encodeValue(buf, "member", s.Member, f.Index(i), true); err != nil {
				return err
			}
		}
		buf.WriteString("</" + name + ">")
	case "map":
		if f.IsNil() && !required {
			return nil
		}
		buf.WriteString("<" + name + ">")
		iter := f.MapRange()
		for iter.Next() {
			buf.WriteString("<entry>")
			if err := encodeValue(buf, "key", s.Key, iter.Key(), true); err != nil {
				return err
			}
			if err := encodeValue(buf, "value", s.Value, iter.Value(), true); err != nil {
				return err
			}
			buf.WriteString("</entry>")
		}
		buf.WriteString("</" + name + ">")
	default:
		text, ok := scalarText(s, f)
		if !ok {
			return nil
		}
		buf.WriteString("<" + name + ">")
		escape(buf, text)
		buf.WriteString("</" + name + ">")
	}
	return nil
}

// scalarText formats a scalar; ok is false for a value that means "not set" (an empty enum
// value, a nil blob).
func scalarText(s *Shape, f reflect.Value) (string, bool) {
	switch f.Kind() {
	case reflect.String:
		if f.String() == "" && len(s.Enum) > 0 {
			return "", false
		}
		return f.String(), true
	case reflect.Int, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10), true
	case reflect.Bool:
		return strconv.FormatBool(f.Bool()), true
	case reflect.Slice:
		if f.IsNil() {
			return "", false // an optional blob that is not set, not an empty one
		}
		return base64.StdEncoding.EncodeToString(f.Bytes()), true
	case reflect.Struct:
		if t, ok := f.Interface().(time.Time); ok {
			return t.UTC().Format(TimeFormat), true
		}
	}
	return fmt.Sprint(f.Interface()), true
}
