package session

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// Claims is what a session token carries: the principal (with its Session set and its
// AccessKeyID the temporary access key id) and the secret access key.
type Claims struct {
	Principal       principal.Principal
	SecretAccessKey string
}

// The claims are a sequence of fields, each a uvarint tag, a uvarint length and that many
// bytes; repeated fields repeat the tag. A decoder skips tags it does not know, so a newer node
// can add fields that older nodes of the same deployment ignore.
const (
	fAccount        = 1
	fAccessKeyID    = 2
	fSecret         = 3
	fType           = 4
	fARN            = 5
	fUserID         = 6
	fUserName       = 7
	fIssued         = 8 // unix seconds, varint
	fExpires        = 9 // unix seconds, varint
	fRoleID         = 10
	fRoleARN        = 11
	fRoleName       = 12
	fSessionName    = 13
	fSessionUserID  = 14
	fPolicy         = 15 // repeated
	fPolicyARN      = 16 // repeated
	fTag            = 17 // repeated: uvarint key length, key, value
	fTransitiveKey  = 18 // repeated
	fSourceIdentity = 19
	fFlags          = 20 // uvarint: flagMFA | flagChained | flagConsole
	fMFAAt          = 21 // unix seconds, varint
	fFederated      = 22
	fPadding        = 63 // ignored: makes a token as long as MinimumSessionTokenSize asks
)

const (
	flagMFA     = 1 << 0
	flagChained = 1 << 1
	flagConsole = 1 << 2
)

// errMalformed is any claims encoding that does not decode; callers report it as an invalid
// token without detail.
var errMalformed = errors.New("session: malformed claims")

// appendClaims appends the encoding of c to b. c.Principal.Session must not be nil.
func appendClaims(b []byte, c *Claims) []byte {
	p := &c.Principal
	s := p.Session
	b = appendString(b, fAccount, p.Account)
	b = appendString(b, fAccessKeyID, p.AccessKeyID)
	b = appendString(b, fSecret, c.SecretAccessKey)
	b = appendString(b, fType, string(p.Type))
	b = appendString(b, fARN, p.ARN)
	b = appendString(b, fUserID, p.UserID)
	b = appendString(b, fUserName, p.UserName)
	b = appendTime(b, fIssued, s.IssuedAt)
	b = appendTime(b, fExpires, s.Expires)
	b = appendString(b, fRoleID, s.RoleID)
	b = appendString(b, fRoleARN, s.RoleARN)
	b = appendString(b, fRoleName, s.RoleName)
	b = appendString(b, fSessionName, s.SessionName)
	b = appendString(b, fSessionUserID, s.UserID)
	for _, v := range s.Policies {
		b = appendField(b, fPolicy, v)
	}
	for _, v := range s.PolicyARNs {
		b = appendField(b, fPolicyARN, v)
	}
	for k, v := range s.Tags {
		b = binary.AppendUvarint(b, fTag)
		b = binary.AppendUvarint(b, uint64(uvarintLen(uint64(len(k)))+len(k)+len(v)))
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = append(b, v...)
	}
	for _, v := range s.TransitiveKeys {
		b = appendField(b, fTransitiveKey, v)
	}
	b = appendString(b, fSourceIdentity, s.SourceIdentity)
	var flags uint64
	if s.MFA {
		flags |= flagMFA
	}
	if s.Chained {
		flags |= flagChained
	}
	if s.Console {
		flags |= flagConsole
	}
	if flags != 0 {
		b = binary.AppendUvarint(b, fFlags)
		b = binary.AppendUvarint(b, uint64(uvarintLen(flags)))
		b = binary.AppendUvarint(b, flags)
	}
	if !s.MFAAt.IsZero() {
		b = appendTime(b, fMFAAt, s.MFAAt)
	}
	b = appendString(b, fFederated, s.Federated)
	return b
}

// appendPadding adds a padding field to plain so that the sealed token is at least minToken
// characters of base64.
func appendPadding(plain []byte, minToken int) []byte {
	need := (minToken*3+3)/4 - overhead - len(plain)
	if need <= 0 {
		return plain
	}
	n := max(need-3, 0) // the tag and a length of up to two bytes
	plain = binary.AppendUvarint(plain, fPadding)
	plain = binary.AppendUvarint(plain, uint64(n))
	return append(plain, make([]byte, n)...)
}

// appendString appends a field unless v is empty (absent and empty decode alike).
func appendString(b []byte, tag uint64, v string) []byte {
	if v == "" {
		return b
	}
	return appendField(b, tag, v)
}

// appendField appends a field even when v is empty: repeated fields keep empty elements.
func appendField(b []byte, tag uint64, v string) []byte {
	b = binary.AppendUvarint(b, tag)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendTime(b []byte, tag uint64, t time.Time) []byte {
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutVarint(tmp[:], t.Unix())
	b = binary.AppendUvarint(b, tag)
	b = binary.AppendUvarint(b, uint64(n))
	return append(b, tmp[:n]...)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// claimsAlloc holds a decoded principal and its session in one allocation.
type claimsAlloc struct {
	c Claims
	s principal.Session
}

// decodeClaims decodes what appendClaims wrote. The strings of the result share one copy of
// data, made here, so the caller may reuse data afterwards.
func decodeClaims(data []byte) (*Claims, error) {
	a := &claimsAlloc{}
	c, s := &a.c, &a.s
	c.Principal.Session = s
	str := string(data) // one allocation for every string field
	var issued, expires bool
	for i := 0; i < len(str); {
		tag, n := uvarint(str, i)
		if n <= 0 {
			return nil, errMalformed
		}
		i += n
		l, n := uvarint(str, i)
		if n <= 0 || l > uint64(len(str)-i-n) {
			return nil, errMalformed
		}
		i += n
		v := str[i : i+int(l)]
		i += int(l)
		switch tag {
		case fAccount:
			c.Principal.Account = v
		case fAccessKeyID:
			c.Principal.AccessKeyID = v
		case fSecret:
			c.SecretAccessKey = v
		case fType:
			c.Principal.Type = principal.Type(v)
		case fARN:
			c.Principal.ARN = v
		case fUserID:
			c.Principal.UserID = v
		case fUserName:
			c.Principal.UserName = v
		case fIssued, fExpires, fMFAAt:
			t, ok := decodeTime(v)
			if !ok {
				return nil, errMalformed
			}
			switch tag {
			case fIssued:
				s.IssuedAt, issued = t, true
			case fExpires:
				s.Expires, expires = t, true
			default:
				s.MFAAt = t
			}
		case fRoleID:
			s.RoleID = v
		case fRoleARN:
			s.RoleARN = v
		case fRoleName:
			s.RoleName = v
		case fSessionName:
			s.SessionName = v
		case fSessionUserID:
			s.UserID = v
		case fPolicy:
			s.Policies = append(s.Policies, v)
		case fPolicyARN:
			s.PolicyARNs = append(s.PolicyARNs, v)
		case fTag:
			kl, n := uvarint(v, 0)
			if n <= 0 || kl > uint64(len(v)-n) {
				return nil, errMalformed
			}
			if s.Tags == nil {
				s.Tags = make(map[string]string, 4)
			}
			s.Tags[v[n:n+int(kl)]] = v[n+int(kl):]
		case fTransitiveKey:
			s.TransitiveKeys = append(s.TransitiveKeys, v)
		case fSourceIdentity:
			s.SourceIdentity = v
		case fFlags:
			f, n := uvarint(v, 0)
			if n != len(v) {
				return nil, errMalformed
			}
			s.MFA, s.Chained, s.Console = f&flagMFA != 0, f&flagChained != 0, f&flagConsole != 0
		case fFederated:
			s.Federated = v
		}
	}
	p := &c.Principal
	if p.Account == "" || p.AccessKeyID == "" || c.SecretAccessKey == "" || p.Type == "" || p.ARN == "" || !issued || !expires {
		return nil, errMalformed
	}
	return c, nil
}

// uvarint reads a uvarint from s at i; n <= 0 when there is none.
func uvarint(s string, i int) (uint64, int) {
	var x uint64
	var shift uint
	for j := i; j < len(s); j++ {
		b := s[j]
		if j-i == binary.MaxVarintLen64 {
			return 0, -1
		}
		if b < 0x80 {
			if j-i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -1
			}
			return x | uint64(b)<<shift, j - i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// decodeTime reads a varint of unix seconds that fills v exactly.
func decodeTime(v string) (time.Time, bool) {
	u, n := uvarint(v, 0)
	if n <= 0 || n != len(v) {
		return time.Time{}, false
	}
	// Zig-zag decoding, as binary.PutVarint encodes.
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return time.Unix(x, 0).UTC(), true
}
