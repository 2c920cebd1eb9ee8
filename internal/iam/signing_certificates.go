package iam

import (
	"context"
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- IAM's certificate ids are SHA-1 fingerprints, not a security check
	"crypto/x509"
	"encoding/base32"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// maxSigningCertificatesPerUser is IAM's quota of signing certificates per user (and root).
const maxSigningCertificatesPerUser = 2

func noSuchSigningCertificate(id string) error {
	return awsquery.NoSuchEntity("The Certificate with id %s cannot be found.", id)
}

// signingCertificateID is the id IAM gives a certificate: the unpadded base32 SHA-1 of its DER,
// 32 characters, so one certificate always has the same id.
func signingCertificateID(der []byte) string {
	sum := sha1.Sum(der) // #nosec G401 -- see the import
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])
}

// signingCertificateRecord stores c under its owner. The record id adds the account, so that
// one certificate is refused twice in an account (DuplicateCertificate) but may be in others.
func signingCertificateRecord(account string, c *store.SigningCertificate) store.Record {
	return store.Record{Account: account, Kind: store.KindSigningCertificate, Key: store.ChildKey(c.OwnerID, c.ID), ID: account + "/" + c.ID, Data: store.Encode(c)}
}

func sdkSigningCertificate(c *store.SigningCertificate, owner keyOwner) types.SigningCertificate {
	return types.SigningCertificate{
		CertificateBody: aws.String(c.CertificateBody),
		CertificateId:   aws.String(c.ID),
		Status:          types.StatusType(c.Status),
		UploadDate:      aws.Time(c.UploadDate),
		UserName:        owner.sdkUserName(),
	}
}

func (s *Service) signingCertificateOperations() []operation {
	return []operation{
		{"UploadSigningCertificate", awsquery.Handle(s.UploadSigningCertificate)},
		{"ListSigningCertificates", awsquery.Handle(s.ListSigningCertificates)},
		{"UpdateSigningCertificate", awsquery.Handle(s.UpdateSigningCertificate)},
		{"DeleteSigningCertificate", awsquery.Handle(s.DeleteSigningCertificate)},
	}
}

// parseSigningCertificate checks an X.509 signing certificate: one PEM certificate, valid now,
// with an RSA key (the key type of the signatures these certificates verify).
func parseSigningCertificate(body string, now time.Time) (*x509.Certificate, error) {
	blocks, err := parseCertificates(body)
	if err != nil || len(blocks) != 1 {
		// AWS's text names the body it could not read.
		return nil, malformedCertificate("Certificate %s is malformed.", body)
	}
	cert := blocks[0].cert
	if err := checkValidity(cert, now); err != nil {
		return nil, err
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, awsquery.Errorf(http.StatusBadRequest, "InvalidCertificate", "The certificate's public key must be an RSA key.")
	}
	return cert, nil
}

// UploadSigningCertificate adds an active signing certificate to a user or, without UserName,
// to the caller (the root user for root credentials). The body is stored as given.
func (s *Service) UploadSigningCertificate(ctx context.Context, in *iam.UploadSigningCertificateInput) (*iam.UploadSigningCertificateOutput, error) {
	p := caller(ctx)
	now := s.timestamp()
	cert, err := parseSigningCertificate(*in.CertificateBody, now)
	if err != nil {
		return nil, err
	}
	c := &store.SigningCertificate{ID: signingCertificateID(cert.Raw), CertificateBody: *in.CertificateBody, Status: string(types.StatusTypeActive), UploadDate: now}
	var owner keyOwner
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if owner, err = resolveKeyOwner(ctx, tx, p, in.UserName); err != nil {
			return err
		}
		c.OwnerID = owner.id
		rec := signingCertificateRecord(p.Account, c)
		if _, err := tx.GetByID(ctx, store.KindSigningCertificate, rec.ID); err == nil {
			return awsquery.Errorf(http.StatusConflict, "DuplicateCertificate", "The same certificate is already associated with an IAM user in this account.")
		} else if !isNotFound(err) {
			return err
		}
		n, err := tx.Count(ctx, store.KindSigningCertificate, p.Account, store.ChildKey(owner.id, ""))
		if err != nil {
			return err
		}
		if n >= maxSigningCertificatesPerUser {
			return awsquery.LimitExceeded("Cannot exceed quota for CertificatesPerUser: %d", maxSigningCertificatesPerUser)
		}
		return tx.Insert(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	out := sdkSigningCertificate(c, owner)
	return &iam.UploadSigningCertificateOutput{Certificate: &out}, nil
}

// ListSigningCertificates lists the signing certificates of a user or the caller.
func (s *Service) ListSigningCertificates(ctx context.Context, in *iam.ListSigningCertificatesInput) (*iam.ListSigningCertificatesOutput, error) {
	p := caller(ctx)
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iam.ListSigningCertificatesOutput{Certificates: []types.SigningCertificate{}}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		recs, truncated, marker, err := list(ctx, tx, store.KindSigningCertificate, p.Account, store.Query{Prefix: store.ChildKey(owner.id, "")}, pg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			var c store.SigningCertificate
			if err := store.Decode(r, &c); err != nil {
				return err
			}
			out.Certificates = append(out.Certificates, sdkSigningCertificate(&c, owner))
		}
		out.IsTruncated, out.Marker = truncated, marker
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// validStatus checks a Status a caller may set: the model's enum also has Expired, which only
// IAM itself reports.
func validStatus(st types.StatusType) error {
	if st != types.StatusTypeActive && st != types.StatusTypeInactive {
		return awsquery.ValidationError("Invalid value for parameter Status: %q; valid values are Active and Inactive.", string(st))
	}
	return nil
}

// UpdateSigningCertificate activates or deactivates a signing certificate.
func (s *Service) UpdateSigningCertificate(ctx context.Context, in *iam.UpdateSigningCertificateInput) (*iam.UpdateSigningCertificateOutput, error) {
	p := caller(ctx)
	if err := validStatus(in.Status); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		rec, err := tx.Get(ctx, store.KindSigningCertificate, p.Account, store.ChildKey(owner.id, *in.CertificateId))
		if isNotFound(err) {
			return noSuchSigningCertificate(*in.CertificateId)
		}
		if err != nil {
			return err
		}
		var c store.SigningCertificate
		if err := store.Decode(rec, &c); err != nil {
			return err
		}
		c.Status = string(in.Status)
		return tx.Replace(ctx, signingCertificateRecord(p.Account, &c))
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateSigningCertificateOutput{}, nil
}

// DeleteSigningCertificate deletes a signing certificate of a user or the caller.
func (s *Service) DeleteSigningCertificate(ctx context.Context, in *iam.DeleteSigningCertificateInput) (*iam.DeleteSigningCertificateOutput, error) {
	p := caller(ctx)
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		err = tx.Delete(ctx, store.KindSigningCertificate, p.Account, store.ChildKey(owner.id, *in.CertificateId))
		if isNotFound(err) {
			return noSuchSigningCertificate(*in.CertificateId)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteSigningCertificateOutput{}, nil
}
