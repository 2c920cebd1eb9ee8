package awsquery

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	buf.WriteByte('<')
	buf.WriteString(op.Name)
	buf.WriteString(`Response xmlns="`)
	buf.WriteString(namespace)
	buf.WriteString(`">`)
	if op.Output != nil && op.ResultWrapper != "" {
		openTag(buf, op.ResultWrapper)
		if out != nil {
			rv := reflect.ValueOf(out)
			if rv.Kind() == reflect.Pointer {
				rv = rv.Elem()
			}
			if err := encodeMembers(buf, op.Output, rv); err != nil {
				return err
			}
		}
		closeTag(buf, op.ResultWrapper)
	}
	buf.WriteString("<ResponseMetadata><RequestId>")
	buf.WriteString(requestID)
	buf.WriteString("</RequestId></ResponseMetadata></")
	buf.WriteString(op.Name)
	buf.WriteString("Response>")
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

func openTag(buf *bytes.Buffer, name string) {
	buf.WriteByte('<')
	buf.WriteString(name)
	buf.WriteByte('>')
}

func closeTag(buf *bytes.Buffer, name string) {
	buf.WriteString("</")
	buf.WriteString(name)
	buf.WriteByte('>')
}

// escape writes s as XML character data, exactly as encoding/xml.EscapeText does (quotes,
// tabs and line breaks as character references, invalid characters as U+FFFD), without
// copying s to a byte slice first.
func escape(buf *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		start := i
		i += width
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if !isInCharacterRange(r) || (r == utf8.RuneError && width == 1) {
				esc = "\uFFFD"
				break
			}
			continue
		}
		buf.WriteString(s[last:start])
		buf.WriteString(esc)
		last = i
	}
	buf.WriteString(s[last:])
}

// isInCharacterRange is XML's Char production, as encoding/xml applies it.
func isInCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func encodeMembers(buf *bytes.Buffer, s *Shape, v reflect.Value) error {
	fields, err := s.fieldsOf(v.Type())
	if err != nil {
		return err
	}
	for i, name := range s.Order {
		if err := encodeValue(buf, name, s.Members[name], v.FieldByIndex(fields[i]), s.Required[name]); err != nil {
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
		openTag(buf, name)
		if err := encodeMembers(buf, s, f); err != nil {
			return err
		}
		closeTag(buf, name)
	case "list":
		// AWS writes required lists even when empty (<Users/>); optional empty ones are left out.
		if f.Len() == 0 && (f.IsNil() && !required) {
			return nil
		}
		openTag(buf, name)
		for i := 0; i < f.Len(); i++ {
			if err := encodeValue(buf, "member", s.Member, f.Index(i), true); err != nil {
				return err
			}
		}
		closeTag(buf, name)
	case "map":
		if f.IsNil() && !required {
			return nil
		}
		openTag(buf, name)
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
		closeTag(buf, name)
	default:
		encodeScalar(buf, name, s, f)
	}
	return nil
}

var timeType = reflect.TypeFor[time.Time]()

// encodeScalar writes a scalar element, or nothing for a value that means "not set" (an empty
// enum value, a nil blob). Numbers and times are formatted straight into buf.
func encodeScalar(buf *bytes.Buffer, name string, s *Shape, f reflect.Value) {
	switch f.Kind() {
	case reflect.String:
		if f.String() == "" && len(s.Enum) > 0 {
			return
		}
		openTag(buf, name)
		escape(buf, f.String())
	case reflect.Int, reflect.Int32, reflect.Int64:
		openTag(buf, name)
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), f.Int(), 10))
	case reflect.Bool:
		openTag(buf, name)
		buf.Write(strconv.AppendBool(buf.AvailableBuffer(), f.Bool()))
	case reflect.Slice:
		if f.IsNil() {
			return // an optional blob that is not set, not an empty one
		}
		openTag(buf, name)
		buf.Write(base64.StdEncoding.AppendEncode(buf.AvailableBuffer(), f.Bytes()))
	default:
		if f.Type() == timeType {
			var t time.Time
			if f.CanAddr() {
				t = *(f.Addr().Interface().(*time.Time)) // no copy to the heap
			} else {
				t = f.Interface().(time.Time)
			}
			openTag(buf, name)
			buf.Write(t.UTC().AppendFormat(buf.AvailableBuffer(), TimeFormat))
		} else {
			openTag(buf, name)
			escape(buf, fmt.Sprint(f.Interface()))
		}
	}
	closeTag(buf, name)
}
