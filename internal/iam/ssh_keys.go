package iam

import (
	"bytes"
	"context"
	"crypto/md5" // #nosec G501 -- the fingerprint IAM reports is MD5 (RFC 4716), not a security check
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// SSH public key rules: IAM's quota per user and UploadSSHPublicKey's minimum key size.
const (
	maxSSHPublicKeysPerUser = 5
	minSSHKeyBits           = 2048
)

func noSuchSSHPublicKey(id string) error {
	return awsquery.NoSuchEntity("The Public Key with id %s cannot be found.", id)
}

// Errors of the SSH key parser, each answered with its own IAM error code.
var (
	// errKeyEncoding: neither ssh-rsa nor PEM (UnrecognizedPublicKeyEncoding).
	errKeyEncoding = errors.New("unrecognized public key encoding")
	// errKeyInvalid: the right encoding, but not a valid key (InvalidPublicKey).
	errKeyInvalid = errors.New("invalid public key")
	// errKeyTooShort: an RSA key of fewer than 2048 bits (InvalidPublicKey).
	errKeyTooShort = errors.New("public key shorter than 2048 bits")
)

func sshKeyError(err error) error {
	switch {
	case errors.Is(err, errKeyEncoding):
		return awsquery.Errorf(http.StatusBadRequest, "UnrecognizedPublicKeyEncoding", "The public key must be an RSA key encoded in ssh-rsa (OpenSSH) format or in PEM format.")
	case errors.Is(err, errKeyTooShort):
		return awsquery.Errorf(http.StatusBadRequest, "InvalidPublicKey", "The public key must be at least %d bits long.", minSSHKeyBits)
	default:
		return awsquery.Errorf(http.StatusBadRequest, "InvalidPublicKey", "The public key is malformed or otherwise invalid.")
	}
}

// parseSSHPublicKey reads an RSA public key in OpenSSH format ("ssh-rsa BASE64 [comment]") or
// PEM (X.509 "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"), the encodings IAM accepts.
func parseSSHPublicKey(body string) (*rsa.PublicKey, error) {
	text := strings.TrimSpace(body)
	var key *rsa.PublicKey
	var err error
	switch {
	case strings.HasPrefix(text, "-----BEGIN"):
		key, err = parsePEMPublicKey(text)
	case strings.HasPrefix(text, "ssh-rsa "), strings.HasPrefix(text, "ssh-rsa\t"):
		key, err = parseOpenSSHPublicKey(text)
	default:
		return nil, errKeyEncoding
	}
	if err != nil {
		return nil, err
	}
	if key.N.BitLen() < minSSHKeyBits {
		return nil, errKeyTooShort
	}
	return key, nil
}

func parsePEMPublicKey(text string) (*rsa.PublicKey, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil || len(bytes.TrimSpace(rest)) > 0 || len(block.Headers) > 0 {
		return nil, errKeyInvalid
	}
	switch block.Type {
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, errKeyInvalid
		}
		return key, nil
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, errKeyInvalid
		}
		rsaKey, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, errKeyEncoding // an EC or Ed25519 key: not an encoding IAM takes
		}
		return rsaKey, nil
	}
	return nil, errKeyEncoding
}

// parseOpenSSHPublicKey reads one line "ssh-rsa BASE64 [comment]".
func parseOpenSSHPublicKey(text string) (*rsa.PublicKey, error) {
	if strings.ContainsAny(text, "\r\n") {
		return nil, errKeyInvalid
	}
	fields := strings.Fields(text)
	if len(fields) < 2 {
		return nil, errKeyInvalid
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(fields[1])
	if err != nil {
		return nil, errKeyInvalid
	}
	return parseSSHRSABlob(blob)
}

// parseSSHRSABlob reads the SSH wire encoding of an RSA key (RFC 4253 section 6.6): the
// string "ssh-rsa", then the mpints e and n, and nothing after.
func parseSSHRSABlob(blob []byte) (*rsa.PublicKey, error) {
	typ, rest, ok := sshString(blob)
	if !ok || string(typ) != "ssh-rsa" {
		return nil, errKeyInvalid
	}
	e, rest, ok := sshString(rest)
	if !ok {
		return nil, errKeyInvalid
	}
	n, rest, ok := sshString(rest)
	if !ok || len(rest) > 0 || !positiveMPInt(e) || !positiveMPInt(n) {
		return nil, errKeyInvalid
	}
	if n[len(n)-1]&1 == 0 {
		return nil, errKeyInvalid // an RSA modulus is odd
	}
	exp := new(big.Int).SetBytes(e)
	// crypto/rsa takes public exponents from 2 to 2^31-1, odd.
	if exp.BitLen() > 31 || exp.Int64() < 3 || exp.Bit(0) == 0 {
		return nil, errKeyInvalid
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
}

// sshString splits a uint32-length-prefixed string off b.
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// positiveMPInt reports whether an mpint (two's complement, big-endian) is greater than zero.
func positiveMPInt(b []byte) bool {
	return len(b) > 0 && b[0]&0x80 == 0 && new(big.Int).SetBytes(b).Sign() > 0
}

// sshRSABlob is the SSH wire encoding of key, as OpenSSH writes it.
func sshRSABlob(key *rsa.PublicKey) []byte {
	var b []byte
	put := func(s []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	mpint := func(x *big.Int) []byte {
		v := x.Bytes()
		if len(v) > 0 && v[0]&0x80 != 0 {
			v = append([]byte{0}, v...) // a leading zero keeps the value positive
		}
		return v
	}
	put([]byte("ssh-rsa"))
	put(mpint(big.NewInt(int64(key.E))))
	put(mpint(key.N))
	return b
}

// sshFingerprint is the MD5 fingerprint of an SSH key as RFC 4716 section 4 defines it (and
// ssh-keygen -E md5 prints it): the digest of the key's wire encoding, colon-separated
// lower-case hex.
func sshFingerprint(key *rsa.PublicKey) string {
	sum := md5.Sum(sshRSABlob(key)) // #nosec G401 -- see the import
	h := hex.EncodeToString(sum[:])
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// sshKeyBody is a stored key in the encoding GetSSHPublicKey asks for: SSH gives a key uploaded
// in OpenSSH format as it was uploaded, PEM gives the X.509 PUBLIC KEY block.
func sshKeyBody(k *store.SSHPublicKey, encoding types.EncodingType) (string, error) {
	key, err := parseSSHPublicKey(k.Body)
	if err != nil {
		return "", err
	}
	if encoding == types.EncodingTypePem {
		der, err := x509.MarshalPKIXPublicKey(key)
		if err != nil {
			return "", err
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
	}
	if text := strings.TrimSpace(k.Body); strings.HasPrefix(text, "ssh-rsa") {
		return text, nil
	}
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(sshRSABlob(key)), nil
}

func sshKeyRecord(account string, k *store.SSHPublicKey) store.Record {
	return store.Record{Account: account, Kind: store.KindSSHPublicKey, Key: store.ChildKey(k.UserID, k.ID), ID: k.ID, Data: store.Encode(k)}
}

func sdkSSHPublicKey(k *store.SSHPublicKey, userName, body string) *types.SSHPublicKey {
	return &types.SSHPublicKey{
		Fingerprint:      aws.String(k.Fingerprint),
		SSHPublicKeyBody: aws.String(body),
		SSHPublicKeyId:   aws.String(k.ID),
		Status:           types.StatusType(k.Status),
		UploadDate:       aws.Time(k.UploadDate),
		UserName:         aws.String(userName),
	}
}

// loadSSHPublicKey reads a key of the named user, with the user.
func loadSSHPublicKey(ctx context.Context, tx store.Tx, account, userName, id string) (*store.SSHPublicKey, *store.User, error) {
	u, err := loadUser(ctx, tx, account, userName)
	if err != nil {
		return nil, nil, err
	}
	k, err := store.Load[store.SSHPublicKey](ctx, tx, store.KindSSHPublicKey, account, store.ChildKey(u.ID, id))
	if isNotFound(err) {
		return nil, nil, noSuchSSHPublicKey(id)
	}
	return k, u, err
}

func (s *Service) sshPublicKeyOperations() []operation {
	return []operation{
		{"UploadSSHPublicKey", awsquery.Handle(s.UploadSSHPublicKey)},
		{"GetSSHPublicKey", awsquery.Handle(s.GetSSHPublicKey)},
		{"ListSSHPublicKeys", awsquery.Handle(s.ListSSHPublicKeys)},
		{"UpdateSSHPublicKey", awsquery.Handle(s.UpdateSSHPublicKey)},
		{"DeleteSSHPublicKey", awsquery.Handle(s.DeleteSSHPublicKey)},
	}
}

// UploadSSHPublicKey adds an active SSH public key (ssh-rsa or PEM, RSA of at least 2048 bits)
// to a user, at most five per user and each key once.
func (s *Service) UploadSSHPublicKey(ctx context.Context, in *iam.UploadSSHPublicKeyInput) (*iam.UploadSSHPublicKeyOutput, error) {
	account := caller(ctx).Account
	key, err := parseSSHPublicKey(*in.SSHPublicKeyBody)
	if err != nil {
		return nil, sshKeyError(err)
	}
	k := &store.SSHPublicKey{
		ID:          s.ids.AccessKeyID("APKA"),
		Body:        *in.SSHPublicKeyBody,
		Fingerprint: sshFingerprint(key),
		Status:      string(types.StatusTypeActive),
		UploadDate:  s.timestamp(),
	}
	var u *store.User
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if u, err = loadUser(ctx, tx, account, *in.UserName); err != nil {
			return err
		}
		k.UserID = u.ID
		recs, err := tx.List(ctx, store.KindSSHPublicKey, account, store.Query{Prefix: store.ChildKey(u.ID, "")})
		if err != nil {
			return err
		}
		for _, r := range recs {
			var have store.SSHPublicKey
			if err := store.Decode(r, &have); err != nil {
				return err
			}
			if have.Fingerprint == k.Fingerprint {
				return awsquery.Errorf(http.StatusBadRequest, "DuplicateSSHPublicKey", "The SSH public key is already associated with the specified IAM user.")
			}
		}
		if len(recs) >= maxSSHPublicKeysPerUser {
			return awsquery.LimitExceeded("Cannot exceed quota for SSHPublicKeysPerUser: %d", maxSSHPublicKeysPerUser)
		}
		return tx.Insert(ctx, sshKeyRecord(account, k))
	})
	if err != nil {
		return nil, err
	}
	return &iam.UploadSSHPublicKeyOutput{SSHPublicKey: sdkSSHPublicKey(k, u.Name, k.Body)}, nil
}

// GetSSHPublicKey returns a user's key in the SSH or PEM encoding.
func (s *Service) GetSSHPublicKey(ctx context.Context, in *iam.GetSSHPublicKeyInput) (*iam.GetSSHPublicKeyOutput, error) {
	account := caller(ctx).Account
	var out *types.SSHPublicKey
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		k, u, err := loadSSHPublicKey(ctx, tx, account, *in.UserName, *in.SSHPublicKeyId)
		if err != nil {
			return err
		}
		body, err := sshKeyBody(k, in.Encoding)
		if err != nil {
			return err
		}
		out = sdkSSHPublicKey(k, u.Name, body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iam.GetSSHPublicKeyOutput{SSHPublicKey: out}, nil
}

// ListSSHPublicKeys lists the keys of a user or the caller (none for the root user).
func (s *Service) ListSSHPublicKeys(ctx context.Context, in *iam.ListSSHPublicKeysInput) (*iam.ListSSHPublicKeysOutput, error) {
	p := caller(ctx)
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iam.ListSSHPublicKeysOutput{SSHPublicKeys: []types.SSHPublicKeyMetadata{}}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil || owner.userName == "" {
			return err
		}
		recs, truncated, marker, err := list(ctx, tx, store.KindSSHPublicKey, p.Account, store.Query{Prefix: store.ChildKey(owner.id, "")}, pg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			var k store.SSHPublicKey
			if err := store.Decode(r, &k); err != nil {
				return err
			}
			out.SSHPublicKeys = append(out.SSHPublicKeys, types.SSHPublicKeyMetadata{
				SSHPublicKeyId: aws.String(k.ID),
				Status:         types.StatusType(k.Status),
				UploadDate:     aws.Time(k.UploadDate),
				UserName:       aws.String(owner.userName),
			})
		}
		out.IsTruncated, out.Marker = truncated, marker
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateSSHPublicKey activates or deactivates a user's key.
func (s *Service) UpdateSSHPublicKey(ctx context.Context, in *iam.UpdateSSHPublicKeyInput) (*iam.UpdateSSHPublicKeyOutput, error) {
	account := caller(ctx).Account
	if err := validStatus(in.Status); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		k, _, err := loadSSHPublicKey(ctx, tx, account, *in.UserName, *in.SSHPublicKeyId)
		if err != nil {
			return err
		}
		k.Status = string(in.Status)
		return tx.Replace(ctx, sshKeyRecord(account, k))
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateSSHPublicKeyOutput{}, nil
}

// DeleteSSHPublicKey deletes a user's key.
func (s *Service) DeleteSSHPublicKey(ctx context.Context, in *iam.DeleteSSHPublicKeyInput) (*iam.DeleteSSHPublicKeyOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		k, _, err := loadSSHPublicKey(ctx, tx, account, *in.UserName, *in.SSHPublicKeyId)
		if err != nil {
			return err
		}
		return tx.Delete(ctx, store.KindSSHPublicKey, account, store.ChildKey(k.UserID, k.ID))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteSSHPublicKeyOutput{}, nil
}
