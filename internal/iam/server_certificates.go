package iam

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// maxServerCertificates is IAM's default quota of server certificates stored in an account.
const maxServerCertificates = 20

// AWS's MalformedCertificate texts for server certificates.
const (
	msgNotPEM   = "Unable to parse certificate. Please ensure the certificate is in PEM format."
	msgExpired  = "Certificate is no longer valid. The 'Not After' date restriction on the certificate has passed."
	msgNotYet   = "Certificate is not yet valid. The 'Not Before' date restriction on the certificate has not been met."
	msgBadChain = "Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: %d"
	msgBadKey   = "Unable to parse private key. Please ensure the private key is an unencrypted PEM-encoded RSA, EC or PKCS#8 key."
)

func malformedCertificate(format string, args ...any) error {
	return awsquery.Errorf(http.StatusBadRequest, "MalformedCertificate", format, args...)
}

func noSuchServerCertificate(name string) error {
	return awsquery.NoSuchEntity("The Server Certificate with name %s cannot be found.", name)
}

func serverCertificateExists(name string) error {
	return awsquery.EntityAlreadyExists("The Server Certificate with name %s already exists.", name)
}

func serverCertificateRecord(account string, c *store.ServerCertificate) store.Record {
	return store.Record{Account: account, Kind: store.KindServerCertificate, Key: store.NameKey(c.Name), ID: c.ID, Path: c.Path, Data: store.Encode(c)}
}

func loadServerCertificate(ctx context.Context, tx store.Tx, account, name string) (*store.ServerCertificate, error) {
	c, err := store.Load[store.ServerCertificate](ctx, tx, store.KindServerCertificate, account, store.NameKey(name))
	if isNotFound(err) {
		return nil, noSuchServerCertificate(name)
	}
	return c, err
}

func sdkServerCertificateMetadata(account string, c *store.ServerCertificate) *types.ServerCertificateMetadata {
	return &types.ServerCertificateMetadata{
		Arn:                   aws.String(entity.ARN(account, "server-certificate", c.Path, c.Name)),
		Path:                  aws.String(c.Path),
		ServerCertificateId:   aws.String(c.ID),
		ServerCertificateName: aws.String(c.Name),
		UploadDate:            aws.Time(c.UploadDate),
		Expiration:            aws.Time(c.Expiration),
	}
}

func (s *Service) serverCertificateOperations() []operation {
	return []operation{
		{"UploadServerCertificate", awsquery.Handle(s.UploadServerCertificate)},
		{"GetServerCertificate", awsquery.Handle(s.GetServerCertificate)},
		{"ListServerCertificates", awsquery.Handle(s.ListServerCertificates)},
		{"UpdateServerCertificate", awsquery.Handle(s.UpdateServerCertificate)},
		{"DeleteServerCertificate", awsquery.Handle(s.DeleteServerCertificate)},
		{"TagServerCertificate", awsquery.Handle(s.TagServerCertificate)},
		{"UntagServerCertificate", awsquery.Handle(s.UntagServerCertificate)},
		{"ListServerCertificateTags", awsquery.Handle(s.ListServerCertificateTags)},
	}
}

// certBlock is one certificate of a PEM text: the block as written (carriage returns removed)
// and the certificate it holds.
type certBlock struct {
	text string
	cert *x509.Certificate
}

// errNotPEM is what the PEM parsers return for text that is not the PEM they expect.
var errNotPEM = errors.New("not PEM")

// parseCertificates reads a PEM text of one or more CERTIFICATE blocks with nothing but
// whitespace around them. IAM converts line ends to LF, so CRs are dropped first.
func parseCertificates(s string) ([]certBlock, error) {
	rest := []byte(strings.ReplaceAll(s, "\r", ""))
	var out []certBlock
	for len(bytes.TrimSpace(rest)) > 0 {
		rest = bytes.TrimLeft(rest, " \t\n")
		block, after := pem.Decode(rest)
		// pem.Decode skips text before a block: only whitespace may come first.
		if block == nil || !bytes.HasPrefix(rest, []byte("-----BEGIN")) || block.Type != "CERTIFICATE" || len(block.Headers) > 0 {
			return nil, errNotPEM
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotPEM, err)
		}
		text := strings.TrimSpace(string(rest[:len(rest)-len(after)]))
		out = append(out, certBlock{text: text, cert: cert})
		rest = after
	}
	if len(out) == 0 {
		return nil, errNotPEM
	}
	return out, nil
}

// errEncryptedKey is a private key protected by a passphrase, which IAM does not accept.
var errEncryptedKey = errors.New("encrypted private key")

// parsePrivateKey reads one unencrypted PEM private key: PKCS#1 RSA, SEC 1 EC or PKCS#8.
func parsePrivateKey(s string) (crypto.Signer, error) {
	text := bytes.TrimSpace([]byte(strings.ReplaceAll(s, "\r", "")))
	block, rest := pem.Decode(text)
	if block == nil || !bytes.HasPrefix(text, []byte("-----BEGIN")) || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errNotPEM
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, errEncryptedKey
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, errNotPEM
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotPEM, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errNotPEM
	}
	return signer, nil
}

// keyMatches reports whether key is the private half of cert's public key.
func keyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}

// chainBreak returns the index AWS reports for the first certificate that the next one did not
// sign: -1 for the body, i for chain[i]; ok is false when each certificate is signed by the
// next. The chain need not end at a root.
func chainBreak(leaf *x509.Certificate, chain []*x509.Certificate) (int, bool) {
	child := leaf
	for i, parent := range chain {
		if child.CheckSignatureFrom(parent) != nil {
			return i - 1, true
		}
		child = parent
	}
	return 0, false
}

// checkValidity refuses a certificate outside its validity period at now.
func checkValidity(cert *x509.Certificate, now time.Time) error {
	if now.After(cert.NotAfter) {
		return malformedCertificate(msgExpired)
	}
	if now.Before(cert.NotBefore) {
		return malformedCertificate(msgNotYet)
	}
	return nil
}

// serverCertificateParts is what UploadServerCertificate stores of its PEM inputs.
type serverCertificateParts struct {
	body, chain string
	leaf        *x509.Certificate
	keyDER      []byte // PKCS#8
}

// parseServerCertificate checks an upload's certificate, chain and private key as IAM does:
// PEM throughout, the key unencrypted and matching the certificate, the certificate valid now,
// each certificate signed by the next. Further certificates after the first in the body are
// moved to the front of the chain, as IAM splits a bundle.
func parseServerCertificate(body, chain, key string, now time.Time) (*serverCertificateParts, error) {
	blocks, err := parseCertificates(body)
	if err != nil {
		return nil, malformedCertificate(msgNotPEM)
	}
	var chainBlocks []certBlock
	if chain != "" {
		if chainBlocks, err = parseCertificates(chain); err != nil {
			return nil, malformedCertificate(msgNotPEM)
		}
	}
	chainBlocks = append(append([]certBlock(nil), blocks[1:]...), chainBlocks...)
	signer, err := parsePrivateKey(key)
	if err != nil {
		return nil, malformedCertificate(msgBadKey)
	}
	leaf := blocks[0].cert
	if !keyMatches(leaf, signer) {
		return nil, awsquery.Errorf(http.StatusBadRequest, "KeyPairMismatch", "The public key certificate and the private key do not match.")
	}
	if err := checkValidity(leaf, now); err != nil {
		return nil, err
	}
	texts := make([]string, len(chainBlocks))
	certs := make([]*x509.Certificate, len(chainBlocks))
	for i, b := range chainBlocks {
		texts[i], certs[i] = b.text, b.cert
	}
	if i, broken := chainBreak(leaf, certs); broken {
		return nil, malformedCertificate(msgBadChain, i)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, malformedCertificate(msgBadKey)
	}
	return &serverCertificateParts{body: blocks[0].text, chain: strings.Join(texts, "\n"), leaf: leaf, keyDER: der}, nil
}

// UploadServerCertificate stores a certificate, its chain and private key. The key is sealed
// under the master key and never returned.
func (s *Service) UploadServerCertificate(ctx context.Context, in *iam.UploadServerCertificateInput) (*iam.UploadServerCertificateOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.Path); err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	parts, err := parseServerCertificate(*in.CertificateBody, aws.ToString(in.CertificateChain), *in.PrivateKey, now)
	if err != nil {
		return nil, err
	}
	c := &store.ServerCertificate{
		ID:               s.ids.UniqueID("ASCA"),
		Name:             *in.ServerCertificateName,
		Path:             defaultPath(in.Path),
		UploadDate:       now,
		Expiration:       parts.leaf.NotAfter.UTC(),
		CertificateBody:  parts.body,
		CertificateChain: parts.chain,
		Tags:             tags,
	}
	if c.SealedKey, err = s.box.Seal(parts.keyDER, []byte(c.ID)); err != nil {
		return nil, s.internal(ctx, fmt.Errorf("seal private key of server certificate %s: %w", c.ID, err))
	}
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.Count(ctx, store.KindServerCertificate, account, "")
		if err != nil {
			return err
		}
		if n >= maxServerCertificates {
			return awsquery.LimitExceeded("Cannot exceed quota for ServerCertificatesPerAccount: %d", maxServerCertificates)
		}
		err = tx.Insert(ctx, serverCertificateRecord(account, c))
		if isExists(err) {
			return serverCertificateExists(c.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.UploadServerCertificateOutput{ServerCertificateMetadata: sdkServerCertificateMetadata(account, c), Tags: sdkTags(c.Tags)}, nil
}

// GetServerCertificate returns a certificate and its chain, never the private key.
func (s *Service) GetServerCertificate(ctx context.Context, in *iam.GetServerCertificateInput) (*iam.GetServerCertificateOutput, error) {
	account := caller(ctx).Account
	var c *store.ServerCertificate
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		c, err = loadServerCertificate(ctx, tx, account, *in.ServerCertificateName)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &types.ServerCertificate{
		CertificateBody:           aws.String(c.CertificateBody),
		ServerCertificateMetadata: sdkServerCertificateMetadata(account, c),
		Tags:                      sdkTags(c.Tags),
	}
	if out.Tags == nil {
		out.Tags = []types.Tag{} // GetServerCertificate shows an empty Tags element
	}
	if c.CertificateChain != "" {
		out.CertificateChain = aws.String(c.CertificateChain)
	}
	return &iam.GetServerCertificateOutput{ServerCertificate: out}, nil
}

// ListServerCertificates lists certificates' metadata, optionally under a path prefix.
func (s *Service) ListServerCertificates(ctx context.Context, in *iam.ListServerCertificatesInput) (*iam.ListServerCertificatesOutput, error) {
	account := caller(ctx).Account
	certs, truncated, marker, err := listByPath(ctx, s, store.KindServerCertificate, account, in.Marker, in.MaxItems, in.PathPrefix,
		func(_ context.Context, _ store.Tx, c *store.ServerCertificate) (types.ServerCertificateMetadata, error) {
			return *sdkServerCertificateMetadata(account, c), nil
		})
	if err != nil {
		return nil, err
	}
	return &iam.ListServerCertificatesOutput{ServerCertificateMetadataList: certs, IsTruncated: truncated, Marker: marker}, nil
}

// UpdateServerCertificate renames a certificate or moves it to another path. Authorization
// asked for both the old and the new name (authorize_target.go).
func (s *Service) UpdateServerCertificate(ctx context.Context, in *iam.UpdateServerCertificateInput) (*iam.UpdateServerCertificateOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.NewPath); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		c, err := loadServerCertificate(ctx, tx, account, *in.ServerCertificateName)
		if err != nil {
			return err
		}
		oldKey := store.NameKey(c.Name)
		if in.NewPath != nil {
			c.Path = *in.NewPath
		}
		if in.NewServerCertificateName != nil {
			c.Name = *in.NewServerCertificateName
		}
		return renameRecord(ctx, tx, serverCertificateRecord(account, c), oldKey, func() error { return serverCertificateExists(c.Name) })
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateServerCertificateOutput{}, nil
}

// DeleteServerCertificate deletes a certificate and its sealed key.
func (s *Service) DeleteServerCertificate(ctx context.Context, in *iam.DeleteServerCertificateInput) (*iam.DeleteServerCertificateOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		err := tx.Delete(ctx, store.KindServerCertificate, account, store.NameKey(*in.ServerCertificateName))
		if isNotFound(err) {
			return noSuchServerCertificate(*in.ServerCertificateName)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteServerCertificateOutput{}, nil
}

func serverCertificateTags() tagged {
	return tagged{load: func(ctx context.Context, tx store.Tx, account, name string) ([]store.Tag, func([]store.Tag) store.Record, error) {
		c, err := loadServerCertificate(ctx, tx, account, name)
		if err != nil {
			return nil, nil, err
		}
		return c.Tags, func(tags []store.Tag) store.Record {
			c.Tags = tags
			return serverCertificateRecord(account, c)
		}, nil
	}}
}

// TagServerCertificate adds tags to a certificate or overwrites the values of keys it has.
func (s *Service) TagServerCertificate(ctx context.Context, in *iam.TagServerCertificateInput) (*iam.TagServerCertificateOutput, error) {
	err := s.retag(ctx, serverCertificateTags(), *in.ServerCertificateName, func(have []store.Tag) ([]store.Tag, error) { return mergeTags(have, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &iam.TagServerCertificateOutput{}, nil
}

// UntagServerCertificate removes tags from a certificate; keys it does not have are ignored.
func (s *Service) UntagServerCertificate(ctx context.Context, in *iam.UntagServerCertificateInput) (*iam.UntagServerCertificateOutput, error) {
	err := s.retag(ctx, serverCertificateTags(), *in.ServerCertificateName, func(have []store.Tag) ([]store.Tag, error) { return removeTags(have, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &iam.UntagServerCertificateOutput{}, nil
}

// ListServerCertificateTags lists a certificate's tags.
func (s *Service) ListServerCertificateTags(ctx context.Context, in *iam.ListServerCertificateTagsInput) (*iam.ListServerCertificateTagsOutput, error) {
	tags, truncated, marker, err := s.listTags(ctx, serverCertificateTags(), *in.ServerCertificateName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListServerCertificateTagsOutput{Tags: tags, IsTruncated: truncated, Marker: marker}, nil
}
