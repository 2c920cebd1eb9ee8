package cloudtrail

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// A NextToken is opaque to clients: base64url (unpadded) of a version byte, 8 bytes of the
// query's fingerprint, the 8-byte Unix nanoseconds and the id of the last event of the page.
// The fingerprint ties it to the account and parameters it was returned for (not MaxResults,
// which a client may change between pages), so a token used with other parameters is
// InvalidNextTokenException, as CloudTrail answers it. It is not a secret: it only narrows a
// query the caller may run anyway.
const (
	tokenVersion = 1
	fpSize       = 8
	tokenHeader  = 1 + fpSize + 8
	maxTokenID   = 256
)

// fingerprint identifies a query's account and parameters.
func fingerprint(account string, req *lookupRequest) [fpSize]byte {
	h := sha256.New()
	for _, s := range []string{account, req.Attribute, req.Value, stamp(req.Start), stamp(req.End), strconv.FormatBool(req.Insight)} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var fp [fpSize]byte
	copy(fp[:], h.Sum(nil))
	return fp
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

// encodeToken is the NextToken of the page that ended at cur.
func encodeToken(cur store.EventCursor, fp [fpSize]byte) string {
	b := make([]byte, tokenHeader, tokenHeader+len(cur.ID))
	b[0] = tokenVersion
	copy(b[1:], fp[:])
	binary.BigEndian.PutUint64(b[1+fpSize:], uint64(cur.Time.UnixNano()))
	b = append(b, cur.ID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads a NextToken for the query of fp; false when it is malformed or was
// returned for another query.
func decodeToken(token string, fp [fpSize]byte) (store.EventCursor, bool) {
	if len(token) > base64.RawURLEncoding.EncodedLen(tokenHeader+maxTokenID) {
		return store.EventCursor{}, false
	}
	if strings.ContainsAny(token, "\r\n") {
		return store.EventCursor{}, false // the decoder skips line breaks: one encoding per token
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token) // Strict: one encoding per token
	if err != nil || len(b) <= tokenHeader || b[0] != tokenVersion || [fpSize]byte(b[1:1+fpSize]) != fp {
		return store.EventCursor{}, false
	}
	id := b[tokenHeader:]
	if !utf8.Valid(id) {
		return store.EventCursor{}, false
	}
	ns := int64(binary.BigEndian.Uint64(b[1+fpSize:]))
	return store.EventCursor{Time: time.Unix(0, ns).UTC(), ID: string(id)}, true
}
