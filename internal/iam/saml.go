package iam

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Quotas of SAML providers (IAM and AWS STS quotas, and UpdateSAMLProvider's key limit).
const (
	maxSAMLProviders      = 100 // per account
	maxSAMLPrivateKeys    = 2   // per provider
	samlProviderARNPrefix = "saml-provider/"
	// samlValidityYears is how long a provider is valid when its metadata sets no validUntil.
	samlValidityYears  = 100
	requiredWithoutKey = "Unable to set assertion encryption mode to Required because no private key is provided."
)

func (s *Service) samlOperations() []operation {
	return []operation{
		{"CreateSAMLProvider", awsquery.Handle(s.CreateSAMLProvider)},
		{"GetSAMLProvider", awsquery.Handle(s.GetSAMLProvider)},
		{"ListSAMLProviders", awsquery.Handle(s.ListSAMLProviders)},
		{"UpdateSAMLProvider", awsquery.Handle(s.UpdateSAMLProvider)},
		{"DeleteSAMLProvider", awsquery.Handle(s.DeleteSAMLProvider)},
		{"TagSAMLProvider", awsquery.Handle(s.TagSAMLProvider)},
		{"UntagSAMLProvider", awsquery.Handle(s.UntagSAMLProvider)},
		{"ListSAMLProviderTags", awsquery.Handle(s.ListSAMLProviderTags)},
	}
}

// SAMLProviderARN is the ARN of the SAML provider name of account.
func SAMLProviderARN(account, name string) string {
	return "arn:aws:iam::" + account + ":" + samlProviderARNPrefix + name
}

// samlID makes a SAMLProviderUUID or private key id: 22 characters of [A-Z0-9] starting with
// SAML, as the model's privateKeyIdType (22 to 64 of [A-Z0-9]) allows.
func samlID() string { return "SAML" + randomString(idAlphabet, 18) }

// parseSAMLMetadata validates a metadata document, answering InvalidInput as AWS does.
func parseSAMLMetadata(doc string) (*samlmeta.Metadata, error) {
	m, err := samlmeta.Parse([]byte(doc))
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), samlmeta.ErrInvalid.Error()+": ")
		return nil, awsquery.InvalidInput("Could not parse metadata: %s", reason)
	}
	return m, nil
}

// validUntil is when a provider stops being valid: its metadata's validUntil, or a hundred
// years after it was made.
func validUntil(m *samlmeta.Metadata, created time.Time) time.Time {
	if !m.ValidUntil.IsZero() {
		return m.ValidUntil.Truncate(time.Second)
	}
	return created.AddDate(samlValidityYears, 0, 0)
}

// samlPrivateKey reads a PEM private key (PKCS#8, or PKCS#1 RSA, or SEC 1 EC) and returns it
// sealed as PKCS#8 under the master key, bound to a new key id.
func (s *Service) samlPrivateKey(pemText string) (store.SAMLPrivateKey, error) {
	invalidKey := awsquery.InvalidInput("Invalid private key: Key format is not recognized.")
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return store.SAMLPrivateKey{}, invalidKey
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		err = errors.New("not a private key")
	}
	if err != nil {
		return store.SAMLPrivateKey{}, invalidKey
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return store.SAMLPrivateKey{}, invalidKey
	}
	k := store.SAMLPrivateKey{ID: samlID(), Added: s.timestamp()}
	if k.Ciphertext, err = s.box.Seal(der, []byte(k.ID)); err != nil {
		return store.SAMLPrivateKey{}, fmt.Errorf("seal SAML private key: %w", err)
	}
	return k, nil
}

func samlRecord(account string, p *store.SAMLProvider) store.Record {
	return store.Record{Account: account, Kind: store.KindSAMLProvider, Key: store.NameKey(p.Name), ID: p.UUID, Data: store.Encode(p)}
}

func noSuchSAMLProvider(providerARN string) error {
	return awsquery.NoSuchEntity("Manifest not found for arn %s", providerARN)
}

// loadSAMLProvider reads the provider an ARN names in account: InvalidInput for a string that
// is not a SAML provider ARN, NoSuchEntity for a provider that does not exist here.
func loadSAMLProvider(ctx context.Context, tx store.Tx, account, providerARN string) (*store.SAMLProvider, error) {
	acct, name, ok := arnResource(providerARN, samlProviderARNPrefix)
	if !ok {
		return nil, awsquery.InvalidInput("%s is not the ARN of a SAML provider (arn:aws:iam::ACCOUNT:saml-provider/NAME).", providerARN)
	}
	if acct != account {
		return nil, noSuchSAMLProvider(providerARN)
	}
	p, err := store.Load[store.SAMLProvider](ctx, tx, store.KindSAMLProvider, account, store.NameKey(name))
	if isNotFound(err) {
		return nil, noSuchSAMLProvider(providerARN)
	}
	return p, err
}

// CreateSAMLProvider registers a SAML 2.0 identity provider from its metadata document.
func (s *Service) CreateSAMLProvider(ctx context.Context, in *iam.CreateSAMLProviderInput) (*iam.CreateSAMLProviderOutput, error) {
	account := caller(ctx).Account
	m, err := parseSAMLMetadata(*in.SAMLMetadataDocument)
	if err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(in.Tags)
	if err != nil {
		return nil, err
	}
	if in.AssertionEncryptionMode == types.AssertionEncryptionModeTypeRequired && in.AddPrivateKey == nil {
		return nil, awsquery.InvalidInput(requiredWithoutKey)
	}
	now := s.timestamp()
	p := &store.SAMLProvider{
		Name:           *in.Name,
		UUID:           samlID(),
		Metadata:       *in.SAMLMetadataDocument,
		EntityID:       m.EntityID,
		CreateDate:     now,
		ValidUntil:     validUntil(m, now),
		EncryptionMode: string(in.AssertionEncryptionMode),
		Tags:           tags,
	}
	if in.AddPrivateKey != nil {
		k, err := s.samlPrivateKey(*in.AddPrivateKey)
		if err != nil {
			return nil, s.internal(ctx, err)
		}
		p.PrivateKeys = []store.SAMLPrivateKey{k}
	}
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.Count(ctx, store.KindSAMLProvider, account, "")
		if err != nil {
			return err
		}
		err = tx.Insert(ctx, samlRecord(account, p))
		if isExists(err) {
			return awsquery.EntityAlreadyExists("SAMLProvider %s already exists.", p.Name)
		}
		if err == nil && n >= maxSAMLProviders {
			return awsquery.LimitExceeded("Cannot exceed quota for SAMLProvidersPerAccount: %d", maxSAMLProviders)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.CreateSAMLProviderOutput{SAMLProviderArn: aws.String(SAMLProviderARN(account, p.Name)), Tags: sdkTags(p.Tags)}, nil
}

// GetSAMLProvider returns a provider's metadata document, dates, encryption mode and the ids
// of its private keys (never the keys).
func (s *Service) GetSAMLProvider(ctx context.Context, in *iam.GetSAMLProviderInput) (*iam.GetSAMLProviderOutput, error) {
	account := caller(ctx).Account
	var p *store.SAMLProvider
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		p, err = loadSAMLProvider(ctx, tx, account, *in.SAMLProviderArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &iam.GetSAMLProviderOutput{
		SAMLMetadataDocument:    aws.String(p.Metadata),
		SAMLProviderUUID:        aws.String(p.UUID),
		CreateDate:              aws.Time(p.CreateDate),
		ValidUntil:              aws.Time(p.ValidUntil),
		AssertionEncryptionMode: types.AssertionEncryptionModeType(p.EncryptionMode),
		Tags:                    sdkTags(p.Tags),
	}
	for _, k := range p.PrivateKeys {
		out.PrivateKeyList = append(out.PrivateKeyList, types.SAMLPrivateKey{KeyId: aws.String(k.ID), Timestamp: aws.Time(k.Added)})
	}
	return out, nil
}

// ListSAMLProviders lists the account's SAML providers; the operation has no pagination.
func (s *Service) ListSAMLProviders(ctx context.Context, _ *iam.ListSAMLProvidersInput) (*iam.ListSAMLProvidersOutput, error) {
	account := caller(ctx).Account
	out := &iam.ListSAMLProvidersOutput{SAMLProviderList: []types.SAMLProviderListEntry{}}
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		recs, err := tx.List(ctx, store.KindSAMLProvider, account, store.Query{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			var p store.SAMLProvider
			if err := store.Decode(r, &p); err != nil {
				return err
			}
			out.SAMLProviderList = append(out.SAMLProviderList, types.SAMLProviderListEntry{
				Arn:        aws.String(SAMLProviderARN(account, p.Name)),
				CreateDate: aws.Time(p.CreateDate),
				ValidUntil: aws.Time(p.ValidUntil),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateSAMLProvider replaces a provider's metadata, sets its assertion encryption mode, or
// adds or removes one private key, with AWS's rules: something must change, a key is added
// or removed but not both, at most two keys, and Required needs a key.
func (s *Service) UpdateSAMLProvider(ctx context.Context, in *iam.UpdateSAMLProviderInput) (*iam.UpdateSAMLProviderOutput, error) {
	account := caller(ctx).Account
	if in.SAMLMetadataDocument == nil && in.AssertionEncryptionMode == "" && in.AddPrivateKey == nil && in.RemovePrivateKey == nil {
		return nil, awsquery.InvalidInput("Unable to update identity provider. No updates are defined for metadata or encryption assertion.")
	}
	if in.AddPrivateKey != nil && in.RemovePrivateKey != nil {
		return nil, awsquery.InvalidInput("Unable to add and remove private keys in the same request. Set a value for only one of the two parameters.")
	}
	var m *samlmeta.Metadata
	if in.SAMLMetadataDocument != nil {
		var err error
		if m, err = parseSAMLMetadata(*in.SAMLMetadataDocument); err != nil {
			return nil, err
		}
	}
	var added *store.SAMLPrivateKey
	if in.AddPrivateKey != nil {
		k, err := s.samlPrivateKey(*in.AddPrivateKey)
		if err != nil {
			return nil, s.internal(ctx, err)
		}
		added = &k
	}
	var name string
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := loadSAMLProvider(ctx, tx, account, *in.SAMLProviderArn)
		if err != nil {
			return err
		}
		name = p.Name
		if m != nil {
			p.Metadata, p.EntityID, p.ValidUntil = *in.SAMLMetadataDocument, m.EntityID, validUntil(m, p.CreateDate)
		}
		if in.AssertionEncryptionMode != "" {
			p.EncryptionMode = string(in.AssertionEncryptionMode)
		}
		if added != nil {
			if len(p.PrivateKeys) >= maxSAMLPrivateKeys {
				return awsquery.LimitExceeded("Private key limit of %d is reached.", maxSAMLPrivateKeys)
			}
			p.PrivateKeys = append(p.PrivateKeys, *added)
		}
		if in.RemovePrivateKey != nil {
			at := slices.IndexFunc(p.PrivateKeys, func(k store.SAMLPrivateKey) bool { return k.ID == *in.RemovePrivateKey })
			if at < 0 {
				return awsquery.InvalidInput("Failed to remove private key because the Key ID does not match a private key.")
			}
			if len(p.PrivateKeys) == 1 && p.EncryptionMode == string(types.AssertionEncryptionModeTypeRequired) {
				return awsquery.InvalidInput("Failed to remove private key. Assertion encryption mode is Required and this is the provider's last private key.")
			}
			p.PrivateKeys = slices.Delete(p.PrivateKeys, at, at+1)
		}
		if p.EncryptionMode == string(types.AssertionEncryptionModeTypeRequired) && len(p.PrivateKeys) == 0 {
			return awsquery.InvalidInput(requiredWithoutKey)
		}
		return tx.Replace(ctx, samlRecord(account, p))
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateSAMLProviderOutput{SAMLProviderArn: aws.String(SAMLProviderARN(account, name))}, nil
}

// DeleteSAMLProvider deletes a SAML provider. Roles that trust it are left as they are.
func (s *Service) DeleteSAMLProvider(ctx context.Context, in *iam.DeleteSAMLProviderInput) (*iam.DeleteSAMLProviderOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := loadSAMLProvider(ctx, tx, account, *in.SAMLProviderArn)
		if err != nil {
			return err
		}
		return tx.Delete(ctx, store.KindSAMLProvider, account, store.NameKey(p.Name))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteSAMLProviderOutput{}, nil
}

func samlTags() tagged {
	return tagged{load: func(ctx context.Context, tx store.Tx, account, providerARN string) ([]store.Tag, func([]store.Tag) store.Record, error) {
		p, err := loadSAMLProvider(ctx, tx, account, providerARN)
		if err != nil {
			return nil, nil, err
		}
		return p.Tags, func(tags []store.Tag) store.Record {
			p.Tags = tags
			return samlRecord(account, p)
		}, nil
	}}
}

// TagSAMLProvider adds tags to a provider or overwrites the values of keys it has.
func (s *Service) TagSAMLProvider(ctx context.Context, in *iam.TagSAMLProviderInput) (*iam.TagSAMLProviderOutput, error) {
	err := s.retag(ctx, samlTags(), *in.SAMLProviderArn, func(have []store.Tag) ([]store.Tag, error) { return mergeTags(have, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &iam.TagSAMLProviderOutput{}, nil
}

// UntagSAMLProvider removes tags from a provider; keys it does not have are ignored.
func (s *Service) UntagSAMLProvider(ctx context.Context, in *iam.UntagSAMLProviderInput) (*iam.UntagSAMLProviderOutput, error) {
	err := s.retag(ctx, samlTags(), *in.SAMLProviderArn, func(have []store.Tag) ([]store.Tag, error) { return removeTags(have, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &iam.UntagSAMLProviderOutput{}, nil
}

// ListSAMLProviderTags lists a provider's tags.
func (s *Service) ListSAMLProviderTags(ctx context.Context, in *iam.ListSAMLProviderTagsInput) (*iam.ListSAMLProviderTagsOutput, error) {
	tags, truncated, marker, err := s.listTags(ctx, samlTags(), *in.SAMLProviderArn, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListSAMLProviderTagsOutput{Tags: tags, IsTruncated: truncated, Marker: marker}, nil
}

// SAMLProviderExpired reports whether p's ValidUntil (its metadata's validUntil, or a hundred
// years after it was made) has passed at now; an expired provider cannot be used to federate
// until new metadata is uploaded.
func SAMLProviderExpired(p *store.SAMLProvider, now time.Time) bool {
	return now.After(p.ValidUntil)
}

// SAMLProviderMetadata returns the parsed metadata (issuer and signing certificates) of the
// SAML provider an ARN names in account, for AssumeRoleWithSAML. A provider that does not
// exist is NoSuchEntity; one whose ValidUntil has passed is InvalidInput.
func (s *Service) SAMLProviderMetadata(ctx context.Context, account, providerARN string) (*samlmeta.Metadata, error) {
	var p *store.SAMLProvider
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		p, err = loadSAMLProvider(ctx, tx, account, providerARN)
		return err
	})
	if err != nil {
		return nil, err
	}
	if SAMLProviderExpired(p, s.now()) {
		return nil, awsquery.InvalidInput("The SAML provider %s expired at %s.", providerARN, p.ValidUntil.Format(time.RFC3339))
	}
	m, err := samlmeta.Parse([]byte(p.Metadata))
	if err != nil {
		return nil, s.internal(ctx, fmt.Errorf("stored metadata of %s: %w", providerARN, err))
	}
	return m, nil
}

// SAMLProviderPrivateKeys returns the PKCS#8 DER private keys of a SAML provider, newest
// first, for decrypting encrypted assertions, and its assertion encryption mode.
func (s *Service) SAMLProviderPrivateKeys(ctx context.Context, account, providerARN string) ([][]byte, string, error) {
	var p *store.SAMLProvider
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		p, err = loadSAMLProvider(ctx, tx, account, providerARN)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	keys := make([][]byte, 0, len(p.PrivateKeys))
	for i := len(p.PrivateKeys) - 1; i >= 0; i-- {
		k := p.PrivateKeys[i]
		der, err := s.box.Open(k.Ciphertext, []byte(k.ID))
		if err != nil {
			return nil, "", s.internal(ctx, fmt.Errorf("open SAML private key %s: %w", k.ID, err))
		}
		keys = append(keys, der)
	}
	return keys, p.EncryptionMode, nil
}
