package audit

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the record to b as MarshalJSON writes it, byte for byte what encoding/json
// writes for the same values (HTML characters escaped, map keys sorted), without reflection for
// the types the recorder builds: strings, booleans, numbers, nil, map[string]any, []any,
// map[string]string, []string and the record's own structs. A value of another type inside
// RequestParameters, ResponseElements or AdditionalEventData is encoded by encoding/json. It
// fails where encoding/json fails (a NaN or infinite number, a value encoding/json rejects).
func (e *Event) AppendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, e.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = e.UserIdentity.appendJSON(b)
	b = append(b, `,"eventTime":`...)
	if e.EventTime.IsZero() {
		b = append(b, `""`...)
	} else {
		b = append(b, '"')
		b = e.EventTime.UTC().AppendFormat(b, timeFormat)
		b = append(b, '"')
	}
	b = appendField(b, "eventSource", e.EventSource)
	b = appendField(b, "eventName", e.EventName)
	b = appendField(b, "awsRegion", e.AWSRegion)
	b = appendField(b, "sourceIPAddress", e.SourceIPAddress)
	b = appendField(b, "userAgent", e.UserAgent)
	b = appendOmitEmpty(b, "errorCode", e.ErrorCode)
	b = appendOmitEmpty(b, "errorMessage", e.ErrorMessage)
	b = append(b, `,"requestParameters":`...)
	if e.RequestParameters == nil {
		b = append(b, "null"...)
	} else if b, err = appendMap(b, e.RequestParameters); err != nil {
		return nil, err
	}
	b = append(b, `,"responseElements":`...)
	if b, err = appendValue(b, e.ResponseElements); err != nil {
		return nil, err
	}
	if len(e.AdditionalEventData) > 0 {
		b = append(b, `,"additionalEventData":`...)
		if b, err = appendMap(b, e.AdditionalEventData); err != nil {
			return nil, err
		}
	}
	b = appendOmitEmpty(b, "requestID", e.RequestID)
	b = appendField(b, "eventID", e.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, e.ReadOnly)
	if len(e.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i := range e.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			r := &e.Resources[i]
			b = append(b, '{')
			n := len(b)
			if r.ARN != "" {
				b = appendField(b, "ARN", r.ARN)
			}
			b = appendOmitEmpty(b, "accountId", r.AccountID)
			b = appendField(b, "type", r.Type)
			b = dropComma(b, n)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendField(b, "eventType", e.EventType)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, e.ManagementEvent)
	b = appendField(b, "recipientAccountId", e.RecipientAccountID)
	b = appendField(b, "eventCategory", e.EventCategory)
	b = appendOmitEmpty(b, "sessionCredentialFromConsole", e.SessionCredentialFromConsole)
	return append(b, '}'), nil
}

// dropComma removes the comma a struct's first field wrote at b[n], after its opening brace.
func dropComma(b []byte, n int) []byte {
	if len(b) > n && b[n] == ',' {
		b = append(b[:n], b[n+1:]...)
	}
	return b
}

func (u *UserIdentity) appendJSON(b []byte) []byte {
	if u == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"type":`...)
	b = appendString(b, u.Type)
	b = appendOmitEmpty(b, "principalId", u.PrincipalID)
	b = appendOmitEmpty(b, "arn", u.ARN)
	b = appendOmitEmpty(b, "accountId", u.AccountID)
	b = appendOmitEmpty(b, "accessKeyId", u.AccessKeyID)
	b = appendOmitEmpty(b, "userName", u.UserName)
	if s := u.SessionContext; s != nil {
		b = append(b, `,"sessionContext":{`...)
		n := len(b)
		if i := s.SessionIssuer; i != nil {
			b = append(b, `,"sessionIssuer":{"type":`...)
			b = appendString(b, i.Type)
			b = appendOmitEmpty(b, "principalId", i.PrincipalID)
			b = appendOmitEmpty(b, "arn", i.ARN)
			b = appendOmitEmpty(b, "accountId", i.AccountID)
			b = appendOmitEmpty(b, "userName", i.UserName)
			b = append(b, '}')
		}
		if w := s.WebIDFederationData; w != nil {
			b = append(b, `,"webIdFederationData":{`...)
			m := len(b)
			b = appendOmitEmpty(b, "federatedProvider", w.FederatedProvider)
			if len(w.Attributes) > 0 {
				b = append(b, `,"attributes":`...)
				b = appendStringMap(b, w.Attributes)
			}
			b = dropComma(b, m)
			b = append(b, '}')
		}
		b = append(b, `,"attributes":{`...)
		m := len(b)
		b = appendOmitEmpty(b, "creationDate", s.Attributes.CreationDate)
		b = appendField(b, "mfaAuthenticated", s.Attributes.MFAAuthenticated)
		b = dropComma(b, m)
		b = append(b, '}')
		b = appendOmitEmpty(b, "sourceIdentity", s.SourceIdentity)
		b = dropComma(b, n)
		b = append(b, '}')
	}
	b = appendOmitEmpty(b, "invokedBy", u.InvokedBy)
	b = appendOmitEmpty(b, "identityProvider", u.IdentityProvider)
	return append(b, '}')
}

// appendField appends ,"name":value.
func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendOmitEmpty is appendField of a field tagged omitempty.
func appendOmitEmpty(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendField(b, name, v)
}

const hexDigits = "0123456789abcdef"

// plain are the bytes appendString copies as they are: ASCII but control characters, '"', '\\'
// and the HTML characters.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s quoted as encoding/json quotes it: HTML characters (<, >, &) and
// U+2028, U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && plain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendMap appends m with its keys sorted, as encoding/json sorts them.
func appendMap(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var keysBuf [16]string
	keys := keysBuf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var keysBuf [16]string
	keys := keysBuf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

// appendValue appends one value of a record's free-form parts.
func appendValue(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case map[string]any:
		return appendMap(b, v)
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, x); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		return appendStringMap(b, v), nil
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, x)
		}
		return append(b, ']'), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		return appendFloat(b, v, 64)
	case float32:
		return appendFloat(b, float64(v), 32)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// appendFloat is encoding/json's floatEncoder.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, bits))
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
